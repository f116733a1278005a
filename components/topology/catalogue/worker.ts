import type { EnvFor } from "../../../services/core/settings";
import type { workerEnvironment } from "../../../services/worker/settings";
import { env, text } from "../env";
import { METRICS_PORT, nodeHttpCheck } from "../health";
import { SERVICES_IMAGE } from "../images";
import type { CatalogueContext, EnvValue, ServiceDraft } from "../types";

/** `mixstack worker`: the stream into InfluxDB, identity merges, profiles, self-metrics. */
export function worker({ config, wiring }: CatalogueContext): ServiceDraft {
  const { redisUrl, influxUrl, logLevel } = wiring;
  return {
    name: "worker",
    kind: "worker",
    description: "stream → InfluxDB, identity, profiles, self-metrics",
    image: SERVICES_IMAGE,
    command: ["worker"],
    env: {
      REDIS_URL: redisUrl,
      INFLUX_URL: influxUrl,
      INFLUX_DB: text(config.influxdb.database),
      INFLUX_USER: text(config.influxdb.writerUser),
      INFLUX_PASSWORD: [env.secret("influxWriterPassword")],
      METRICS_PORT: text(METRICS_PORT),
      // The platform's health check and other containers reach it; never routed publicly.
      METRICS_HOST: text("0.0.0.0"),
      WORKER_NEW_EVENT_NAMES_PER_DAY: text(config.worker.newEventNamesPerDay),
      WORKER_NEW_PROPERTY_KEYS_PER_DAY: text(config.worker.newPropertyKeysPerDay),
      LOG_LEVEL: logLevel,
    } satisfies EnvFor<typeof workerEnvironment, EnvValue>,
    // Prometheus `/metrics` and `/healthz` (the loop is alive).
    ports: [{ name: "metrics", port: METRICS_PORT, protocol: "http", public: false }],
    volumes: [],
    health: {
      http: { port: "metrics", path: "/healthz" },
      command: nodeHttpCheck(METRICS_PORT, "/healthz"),
      intervalSeconds: 15,
      timeoutSeconds: 5,
      retries: 4,
      startPeriodSeconds: 30,
    },
    resources: { memoryMb: config.worker.memoryMb, cpus: config.worker.cpus },
    scaling: { min: config.worker.replicas, max: config.worker.replicas },
    dependsOn: [
      { service: "queue", condition: "healthy" },
      { service: "bootstrap", condition: "completed" },
    ],
    stopGraceSeconds: 30,
  };
}
