import type { StackConfig } from "../../config/schema";
import type { SecretName } from "../../config/secrets";
import type { catalogue } from "./catalogue";

/**
 * The platform-neutral description of a mixstack deployment: which services exist, what they run,
 * how they are wired. Plain data built by plain functions (no Pulumi resources), so tests assert on
 * it without mocks and each platform folder (`components/docker`, `components/aws`, ...) only
 * translates it. docs/topology.md explains every field to platform implementers.
 */

/** The services of the catalogue (catalogue/index.ts), by name. */
export type ServiceName = keyof typeof catalogue;

/**
 * - `stateful`: one instance owning a persistent volume (never two writers on one data dir);
 * - `stateless`: any number of instances, may have public ports;
 * - `worker`: long-running, no inbound traffic;
 * - `job`: runs to completion on a schedule;
 * - `init`: runs to completion before the services that depend on it start, on every deploy.
 */
export type ServiceKind = "stateful" | "stateless" | "worker" | "job" | "init";

/** The images we build from this repository; everything else is a pinned third-party image. */
export type BuildName = "services" | "grafana";

export type ImageSpec = { kind: "pinned"; ref: string } | { kind: "build"; build: BuildName };

export interface BuildSpec {
  /** Build context, relative to the repository root (the Pulumi project directory). */
  context: string;
  /** Dockerfile, relative to the context. */
  dockerfile: string;
}

/** A secret, by name; its value never appears in the topology. */
export interface SecretRef {
  kind: "secret";
  secret: SecretName;
}

/** `host:port` of another service's port, as this service reaches it on the private network. */
export interface EndpointRef {
  kind: "endpoint";
  service: ServiceName;
  port: string;
}

/** URL of the platform's own backup store (`file:///backups`, `s3://bucket/prefix`, `gs://bucket/prefix`). */
export interface BackupStoreRef {
  kind: "backupStore";
}

export type EnvRef = SecretRef | EndpointRef | BackupStoreRef;

/** An env value is a template: text and references, concatenated once each reference is resolved. */
export type EnvPart = string | EnvRef;
export type EnvValue = readonly EnvPart[];

export interface PortSpec {
  /** Referenced by endpoints, edges and health checks. */
  name: string;
  /** The port the process listens on inside its container. */
  port: number;
  protocol: "http" | "tcp";
  /** Reachable from outside the stack (published / behind a load balancer). Private otherwise. */
  public: boolean;
  /**
   * Bound to 127.0.0.1 inside the service's container: only what shares its network namespace
   * reaches it (Docker runs the service's talkers there, see `TopologyOptions.loopbackRpc`).
   */
  loopback?: boolean;
}

export interface HealthCheck {
  /** HTTP probe for load balancers and platform probes (`GET path` on the named port answers 2xx). */
  http?: { port: string; path: string };
  /** HTTP path that answers 2xx only when the service can do its work (ingest: the queue is reachable). */
  readinessPath?: string;
  /** Shell command run inside the container (exit 0 = healthy), for container-level checks. */
  command: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface VolumeSpec {
  name: string;
  /** Mount path inside the container. */
  path: string;
  /** Owner the process runs as; a fresh host directory must belong to it. */
  uid: number;
  gid: number;
  /** `data`: the service's state. `backups`: where backups are written when the store is a directory. */
  purpose: "data" | "backups";
  /**
   * `required`: losing it loses data; platforms must give durable block storage.
   * `preferred`: keeps UI-made changes (Grafana); platforms may use ephemeral storage where durable
   * storage would force a different service shape.
   */
  persistence: "required" | "preferred";
  sizeGb: number;
}

export interface Resources {
  memoryMb: number;
  cpus: number;
}

export interface Scaling {
  min: number;
  max: number;
}

export interface Dependency {
  service: ServiceName;
  /** `healthy`: its health check passes. `completed`: it ran to completion with exit code 0 (init). */
  condition: "healthy" | "completed";
}

/** A network path one service needs: `from` connects to `to`'s named port. */
export interface Edge {
  from: ServiceName;
  to: ServiceName;
  port: string;
}

/**
 * A service that terminates TLS itself: it serves HTTPS on its public port with the certificate and
 * key (PEM) the platform mounts read-only at these container paths. Only platforms that take the
 * files from the operator set it (Docker: `mixstack:docker.tls`); the clouds terminate TLS at their
 * load balancers instead.
 */
export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

export interface JobSchedule {
  /** Five-field cron, UTC. */
  cron: string;
  /** How platforms without a scheduler service (Docker) run the job: see `InStackScheduler`. */
  inStack: InStackScheduler;
}

/**
 * A scheduled job run in-stack: a long-running container that runs the job on `cron` itself
 * (`mixstack scheduler`) instead of `command`. Being long-running, it has what a one-shot task has
 * not: env, private ports and a health check of its own, added to the service's by `inStackForm`.
 * Platforms with a scheduler service (AWS, GCP) run `command` as a task and never render these.
 */
export interface InStackScheduler {
  command: string[];
  /** Added to the service's env. */
  env: Readonly<Record<string, EnvValue>>;
  /** Added to the service's ports; private (nothing in the stack talks to them). */
  ports: PortSpec[];
  health: HealthCheck;
}

export interface ServiceSpec {
  name: ServiceName;
  kind: ServiceKind;
  description: string;
  image: ImageSpec;
  /** Replaces the image's entrypoint when set. */
  entrypoint?: string[];
  /** Arguments to the entrypoint (our image: the `mixstack` command). Unset: the image's default. */
  command?: string[];
  env: Readonly<Record<string, EnvValue>>;
  ports: PortSpec[];
  volumes: VolumeSpec[];
  health?: HealthCheck;
  resources: Resources;
  scaling: Scaling;
  dependsOn: Dependency[];
  /** Derived from the endpoint references in `env`: the only network paths this service needs. */
  talksTo: Edge[];
  schedule?: JobSchedule;
  /** Set when the service serves HTTPS itself (see `TlsFiles`). */
  tls?: TlsFiles;
  /** Seconds between SIGTERM and SIGKILL. */
  stopGraceSeconds: number;
  /**
   * Set when the stack config asks for the platform's managed equivalent (`queue.managed`): no
   * container, image, command or volume of ours; clients connect with TLS. Platforms without one
   * never see it (the config refuses the option).
   */
  managed?: { engine: "valkey" };
}

export interface Topology {
  stack: string;
  services: ServiceSpec[];
  /** Every secret some env references. */
  secrets: SecretName[];
  /** Backups written to the platform's own store (`backupStore` reference) or to a configured URL. */
  backupTarget: { kind: "platform" } | { kind: "url"; url: string };
  keepDataOnDestroy: boolean;
  /** Consequences of the config the operator must be told (platforms log them; a stack output lists them). */
  notices: string[];
}

/**
 * What the selected platform tells the topology (its descriptor's `topologyOptions`): the few
 * facts that change the services themselves, not only how they are deployed.
 */
export interface TopologyOptions {
  /**
   * The platform mounts the operator's certificate into the public HTTP services, which then
   * serve HTTPS themselves (Docker with `docker.tls`); false where a load balancer terminates TLS.
   */
  serviceTls: boolean;
  /**
   * Proxies the platform puts in front of its public services, each adding one `X-Forwarded-For`
   * entry ingest may trust (Docker 0; an ALB 1; Cloud Run's front end 1: it sets the header to the
   * client's address).
   */
  trustedProxyHops: number;
  /** Every public URL is HTTPS (a certificate on the load balancer, Cloud Run, or `serviceTls`): browsers' cookies can be marked Secure. */
  publicHttps: boolean;
  /**
   * InfluxDB binds its backup/restore RPC port (8088, which has no authentication) to 127.0.0.1, and
   * the backup job runs in InfluxDB's network namespace: nothing else in the stack can reach the port
   * (Docker, whose networks cannot filter by port). Where firewalls filter by port (AWS, GCP) it
   * listens on the private network and only the backup job's security group or rule reaches it.
   */
  loopbackRpc: boolean;
}

/** A service as its catalogue builder returns it; `talksTo` is derived from its env. */
export type ServiceDraft = Omit<ServiceSpec, "talksTo">;

/** What every catalogue builder gets: the config, the platform's options and the shared wiring. */
export interface CatalogueContext {
  config: StackConfig;
  options: TopologyOptions;
  wiring: {
    /** `REDIS_URL`: the queue with its password (`rediss://` to a managed queue). */
    redisUrl: EnvValue;
    /** `INFLUX_URL`: ours, or the external one. */
    influxUrl: EnvValue;
    logLevel: EnvValue;
    backupTarget: Topology["backupTarget"];
  };
}

/** Builds one service from the context; undefined when the config leaves it out. */
export type ServiceBuilder = (context: CatalogueContext) => ServiceDraft | undefined;

/** One instance, never more. */
export const SINGLE: Scaling = { min: 1, max: 1 };
