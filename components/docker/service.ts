import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DockerConfig } from "./config";
import type { ServiceSpec } from "../topology";
import { initCommand, initGate, INIT_OPTIONS } from "./init-run";
import { hostPathFor, seconds } from "./names";

/** Where a service's volumes live: named Docker volumes, or directories under `dataDir` on the host. */
export type DockerStorage = { kind: "volumes"; keepOnDestroy: boolean } | { kind: "hostDirectories"; dataDir: string };

export interface DockerServiceArgs {
  /** As Docker runs it: a scheduled job in its in-stack form (`inStackForm`). */
  spec: ServiceSpec;
  /** Image ID or pinned reference the container runs. */
  image: pulumi.Input<string>;
  /** `KEY=value` entries (docker/env.ts). */
  envs: pulumi.Input<string[]>;
  containerName: string;
  volumeName: (volume: string) => string;
  /** The networks the container joins, or the container whose network namespace it shares (docker/network-plan.ts). */
  networking: { kind: "networks"; networks: Array<{ name: pulumi.Input<string>; aliases: string[] }> } | { kind: "sharesWith"; container: pulumi.Input<string> };
  storage: DockerStorage;
  /** Host port per public container port. */
  hostPorts: Readonly<Record<number, number>>;
  /** Files of the Docker host mounted read-only (`source` on the host → `target` in the container). */
  files?: ReadonlyArray<{ source: string; target: string }>;
  settings: Pick<DockerConfig, "bindAddress" | "restartPolicy" | "logMaxSize" | "logMaxFiles">;
  labels: Record<string, pulumi.Input<string>>;
  /** Resources that must be ready first (healthy containers, finished init containers). */
  dependsOn: pulumi.Resource[];
}

/**
 * One topology service on Docker: its volumes and its container, attached to the networks of the
 * services it talks to (and its own, under its name), with limits, health check, restart policy and
 * log rotation. `init` services run to completion during the deploy behind a health gate
 * (init-run.ts), so a failed run is run again by the next `up`; `job` services arrive in their
 * in-stack form (the scheduler container, with its own health check).
 */
export class DockerService extends pulumi.ComponentResource {
  readonly container: docker.Container;
  /** Container ports published on the host. */
  readonly publishedPorts: number[];
  /** Mount paths backed by a volume or host directory that outlives the container. */
  readonly persistentPaths: string[];

  constructor(name: string, args: DockerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:docker:Service", name, {}, opts);
    const { spec, storage, settings } = args;
    const runsToCompletion = spec.kind === "init";

    const volumes = spec.volumes.map((volume): docker.types.input.ContainerVolume => {
      if (storage.kind === "hostDirectories") {
        return { hostPath: hostPathFor(storage.dataDir, spec, volume), containerPath: volume.path };
      }
      const created = new docker.Volume(
        `${name}-${volume.name}`,
        { name: args.volumeName(volume.name), labels: toLabels(args.labels) },
        // Named after the stack: a replaced resource re-attaches to the same data, and destroy keeps it by default.
        { parent: this, retainOnDelete: storage.keepOnDestroy },
      );
      return { volumeName: created.name, containerPath: volume.path };
    });

    const published = spec.ports.filter((p) => p.public);
    const ports = published.map((p) => {
      const external = args.hostPorts[p.port];
      if (external === undefined) throw new Error(`no host port configured for ${spec.name}:${p.port}`);
      return { internal: p.port, external, ip: settings.bindAddress, protocol: "tcp" };
    });

    const health = spec.health;
    // An init service runs `mixstack <command>` (the image's launcher on PATH) inside the gate's wrapper.
    const run = runsToCompletion
      ? { ...initCommand(spec.entrypoint ?? ["mixstack", ...(spec.command ?? [])]), ...initGate() }
      : {
          entrypoints: spec.entrypoint,
          command: spec.command,
          healthcheck: health
            ? {
                tests: ["CMD-SHELL", health.command],
                interval: seconds(health.intervalSeconds),
                timeout: seconds(health.timeoutSeconds),
                retries: health.retries,
                startPeriod: seconds(health.startPeriodSeconds),
              }
            : undefined,
          // Long-running services wait until healthy, so a broken release fails `pulumi up` instead of looping quietly.
          wait: health !== undefined,
          waitTimeout: health ? health.startPeriodSeconds + (health.intervalSeconds + health.timeoutSeconds) * health.retries + 30 : undefined,
          restart: settings.restartPolicy,
          attach: false,
          mustRun: true,
        };
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: args.containerName,
        image: args.image,
        ...run,
        envs: args.envs,
        ...(args.networking.kind === "networks"
          ? { networksAdvanced: args.networking.networks.map((network) => ({ name: network.name, aliases: network.aliases.length ? network.aliases : undefined })) }
          : { networkMode: pulumi.interpolate`container:${args.networking.container}` }),
        ports,
        volumes,
        // A bind mount (not `volumes`): a missing source fails the deploy instead of becoming an empty directory.
        mounts: args.files?.map((file) => ({ type: "bind", source: file.source, target: file.target, readOnly: true })),
        memory: spec.resources.memoryMb,
        cpus: String(spec.resources.cpus),
        logDriver: "json-file",
        logOpts: { "max-size": settings.logMaxSize, "max-file": String(settings.logMaxFiles) },
        // Our services run under an init (signal forwarding, zombie reaping); third-party images bring their own entrypoints.
        init: spec.image.kind === "build" && spec.image.build === "services" ? true : undefined,
        stopTimeout: spec.stopGraceSeconds,
        destroyGraceSeconds: spec.stopGraceSeconds,
        labels: toLabels(args.labels),
      },
      // Fixed container names: the old container must go before its replacement can take the name.
      { parent: this, dependsOn: args.dependsOn, ...(runsToCompletion ? INIT_OPTIONS : { deleteBeforeReplace: true }) },
    );

    this.publishedPorts = published.map((p) => p.port);
    // What was actually mounted (the parity summary reads this, not the spec).
    this.persistentPaths = volumes.map((v) => String(v.containerPath));
    this.registerOutputs({ container: this.container });
  }
}

function toLabels(labels: Record<string, pulumi.Input<string>>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
