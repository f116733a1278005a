import { pinnedImages } from "../images";
import { env } from "../env";
import { SINGLE, type CatalogueContext, type ServiceDraft } from "../types";

/** Valkey: the stream, identity map and profiles. With `queue.managed`, the platform's managed Valkey replaces the container. */
export function queue({ config }: CatalogueContext): ServiceDraft {
  const spec: ServiceDraft = {
    name: "queue",
    kind: "stateful",
    description: "Valkey: the ingest stream, identity map and profiles (state, not a cache)",
    image: { kind: "pinned", ref: pinnedImages.queue },
    // The image's entrypoint drops to the valkey user; the password comes from the env, not the command line of the spec.
    entrypoint: ["sh", "-c", 'exec docker-entrypoint.sh valkey-server --requirepass "$REDISCLI_AUTH" "$@"', "valkey-server"],
    command: [
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--maxmemory-policy", "noeviction",
      // Below the container limit, so a full queue answers OOM errors (ingest: 503) instead of being killed.
      "--maxmemory", `${Math.floor(config.queue.memoryMb * 0.75)}mb`,
    ],
    env: {
      // valkey-cli reads REDISCLI_AUTH too, so the health check needs no password argument.
      REDISCLI_AUTH: [env.secret("queuePassword")],
    },
    ports: [{ name: "redis", port: 6379, protocol: "tcp", public: false }],
    volumes: [
      {
        name: "data",
        path: "/data",
        uid: 999,
        gid: 999,
        purpose: "data",
        persistence: "required",
        sizeGb: config.queue.volumeGb,
      },
    ],
    health: {
      command: '[ "$(valkey-cli ping)" = PONG ]',
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 6,
      startPeriodSeconds: 10,
    },
    resources: { memoryMb: config.queue.memoryMb, cpus: config.queue.cpus },
    scaling: SINGLE,
    dependsOn: [],
    stopGraceSeconds: 30,
  };
  // A managed queue: no container, image, command or volume of ours; clients connect with TLS.
  return config.queue.managed ? { ...spec, entrypoint: undefined, command: undefined, env: {}, volumes: [], managed: { engine: "valkey" } } : spec;
}
