import type { StackConfig } from "../config/schema";
import { secretNames, type SecretName } from "../config/secrets";
import type { EnvFor } from "../services/core/settings";
import type { ingestEnvironment } from "../services/ingest/settings";
import type { opsEnvironment } from "../services/ops/settings";
import type { bootstrapEnvironment } from "../services/worker/bootstrap";
import type { workerEnvironment } from "../services/worker/settings";

/**
 * The platform-neutral description of a mixstack deployment: which services exist, what they run,
 * how they are wired. Plain data built by plain functions (no Pulumi resources), so tests assert on
 * it without mocks and each platform folder (`components/docker`, `components/aws`, ...) only
 * translates it. docs/topology.md explains every field to platform implementers.
 */

export type ServiceName = "influxdb" | "queue" | "bootstrap" | "ingest" | "worker" | "grafana" | "backup";

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

/** Third-party images, pinned to exact tags (never `latest`, which is InfluxDB 2.x). */
export const pinnedImages = {
  influxdb: "influxdb:1.12.4",
  queue: "valkey/valkey:8.1.8",
} as const;

export const builds: Record<BuildName, BuildSpec> = {
  services: { context: ".", dockerfile: "Dockerfile" },
  grafana: { context: "grafana", dockerfile: "Dockerfile" },
};

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

export const env = {
  secret: (secret: SecretName): SecretRef => ({ kind: "secret", secret }),
  endpoint: (service: ServiceName, port: string): EndpointRef => ({ kind: "endpoint", service, port }),
  backupStore: (): BackupStoreRef => ({ kind: "backupStore" }),
};

const text = (value: string | number | boolean): EnvValue => [String(value)];

const SERVICES_IMAGE: ImageSpec = { kind: "build", build: "services" };

// The services image has node but neither curl nor wget.
const nodeHttpCheck = (port: number, path: string) =>
  `node -e "fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
// The certificate names the public host, not 127.0.0.1: the check asks "alive?", not "trusted?".
const nodeHttpsCheck = (port: number, path: string) =>
  `node -e "require('https').get({host:'127.0.0.1',port:${port},path:'${path}',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"`;

// As nodeHttpCheck, and prints the answer's body: Docker keeps it in the health log, so
// `docker inspect` shows why a container is unhealthy.
const nodeHttpCheckWithReason = (port: number, path: string) =>
  `node -e "fetch('http://127.0.0.1:${port}${path}').then(r=>r.text().then(t=>{console.log(t);process.exit(r.ok?0:1)}),e=>{console.log(e.message);process.exit(1)})"`;

/**
 * Prometheus `/metrics` of ingest, the worker and the in-stack backup scheduler (their
 * `METRICS_PORT`): a private port, never published or forwarded by a load balancer. Nothing in the
 * stack scrapes it; docs/topology.md says how an operator's Prometheus reaches it on each platform.
 */
export const METRICS_PORT = 9464;

/** Where ingest finds its certificate and key when it serves HTTPS itself (Docker with `docker.tls`). */
export const INGEST_TLS_FILES: TlsFiles = { certPath: "/run/mixstack/tls/cert.pem", keyPath: "/run/mixstack/tls/key.pem" };

/** Builds the topology of one stack from its validated config. Pure. */
export function buildTopology(config: StackConfig): Topology {
  const influx = config.influxdb;
  const external = influx.external;
  // A managed queue only accepts TLS connections.
  const redisUrl: EnvValue = [config.queue.managed ? "rediss://:" : "redis://:", env.secret("queuePassword"), "@", env.endpoint("queue", "redis")];
  const influxUrl: EnvValue = external ? [external.url.replace(/\/+$/, "")] : ["http://", env.endpoint("influxdb", "http")];
  const logLevel = text(config.logLevel);
  const backupTarget: Topology["backupTarget"] = config.backup.target
    ? { kind: "url", url: config.backup.target }
    : { kind: "platform" };
  const single: Scaling = { min: 1, max: 1 };
  // The one platform setting the topology reads: whether the operator gives ingest a certificate
  // (Docker). The clouds terminate TLS at their load balancers and have no such key.
  const ingestTls = config.platform === "docker" && config.docker.tls ? INGEST_TLS_FILES : undefined;
  const ingestPort = 8080;

  const services: Omit<ServiceSpec, "talksTo">[] = [
    {
      name: "influxdb",
      kind: "stateful",
      description: "InfluxDB 1.x: the events database",
      image: { kind: "pinned", ref: pinnedImages.influxdb },
      env: {
        INFLUXDB_HTTP_AUTH_ENABLED: text(true),
        INFLUXDB_DATA_INDEX_VERSION: text("tsi1"),
        INFLUXDB_REPORTING_DISABLED: text(true),
        // The backup RPC port has no authentication: private network only, never public.
        INFLUXDB_BIND_ADDRESS: text("0.0.0.0:8088"),
        INFLUXDB_HTTP_SUPPRESS_WRITE_LOG: text(true),
        INFLUXDB_DATA_QUERY_LOG_ENABLED: text(false),
      },
      ports: [
        { name: "http", port: 8086, protocol: "http", public: false },
        { name: "rpc", port: 8088, protocol: "tcp", public: false },
      ],
      volumes: [
        {
          name: "data",
          path: "/var/lib/influxdb",
          uid: 1500,
          gid: 1500,
          purpose: "data",
          persistence: "required",
          sizeGb: influx.volumeGb,
        },
      ],
      health: {
        http: { port: "http", path: "/ping" },
        command: "curl -sf -o /dev/null http://127.0.0.1:8086/ping",
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 6,
        startPeriodSeconds: 30,
      },
      resources: { memoryMb: influx.memoryMb, cpus: influx.cpus },
      scaling: single,
      dependsOn: [],
      stopGraceSeconds: 60,
    },
    {
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
      scaling: single,
      dependsOn: [],
      stopGraceSeconds: 30,
    },
    {
      name: "bootstrap",
      kind: "init",
      description: "creates the database, retention policy, users and grants (idempotent)",
      image: SERVICES_IMAGE,
      command: ["bootstrap"],
      env: {
        INFLUX_URL: influxUrl,
        INFLUX_DB: text(influx.database),
        INFLUX_USER: text(influx.adminUser),
        INFLUX_PASSWORD: [env.secret("influxAdminPassword")],
        INFLUX_WRITER_USER: text(influx.writerUser),
        INFLUX_WRITER_PASSWORD: [env.secret("influxWriterPassword")],
        INFLUX_READER_USER: text(influx.readerUser),
        INFLUX_READER_PASSWORD: [env.secret("influxReaderPassword")],
        INFLUX_RETENTION: text(influx.retention),
        LOG_LEVEL: logLevel,
      } satisfies EnvFor<typeof bootstrapEnvironment, EnvValue>,
      ports: [],
      volumes: [],
      resources: { memoryMb: 256, cpus: 0.5 },
      scaling: single,
      dependsOn: [{ service: "influxdb", condition: "healthy" }],
      stopGraceSeconds: 10,
    },
    {
      name: "ingest",
      kind: "stateless",
      description: "the Mixpanel-compatible ingestion API",
      image: SERVICES_IMAGE,
      command: ["ingest"],
      env: {
        PORT: text(ingestPort),
        METRICS_PORT: text(METRICS_PORT),
        REDIS_URL: redisUrl,
        MIXSTACK_TOKEN: [env.secret("projectToken")],
        MIXSTACK_API_SECRET: [env.secret("apiSecret")],
        ...(ingestTls ? { MIXSTACK_TLS_CERT_FILE: text(ingestTls.certPath), MIXSTACK_TLS_KEY_FILE: text(ingestTls.keyPath) } : {}),
        LOG_LEVEL: logLevel,
      } satisfies EnvFor<typeof ingestEnvironment, EnvValue>,
      ports: [
        { name: "http", port: ingestPort, protocol: "http", public: true },
        { name: "metrics", port: METRICS_PORT, protocol: "http", public: false },
      ],
      volumes: [],
      tls: ingestTls,
      health: {
        http: { port: "http", path: "/healthz" },
        readinessPath: "/readyz",
        command: ingestTls ? nodeHttpsCheck(ingestPort, "/healthz") : nodeHttpCheck(ingestPort, "/healthz"),
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 3,
        startPeriodSeconds: 20,
      },
      resources: { memoryMb: config.ingest.memoryMb, cpus: config.ingest.cpus },
      scaling: { min: config.ingest.minReplicas, max: Math.max(config.ingest.minReplicas, config.ingest.maxReplicas) },
      dependsOn: [{ service: "queue", condition: "healthy" }],
      stopGraceSeconds: 30,
    },
    {
      name: "worker",
      kind: "worker",
      description: "stream → InfluxDB, identity, profiles, self-metrics",
      image: SERVICES_IMAGE,
      command: ["worker"],
      env: {
        REDIS_URL: redisUrl,
        INFLUX_URL: influxUrl,
        INFLUX_DB: text(influx.database),
        INFLUX_USER: text(influx.writerUser),
        INFLUX_PASSWORD: [env.secret("influxWriterPassword")],
        METRICS_PORT: text(METRICS_PORT),
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
    },
    {
      name: "grafana",
      kind: "stateless",
      description: "Grafana with the provisioned InfluxDB data source and dashboards",
      image: { kind: "build", build: "grafana" },
      env: {
        GF_SECURITY_ADMIN_USER: text("admin"),
        GF_SECURITY_ADMIN_PASSWORD: [env.secret("grafanaAdminPassword")],
        GF_USERS_ALLOW_SIGN_UP: text(false),
        GF_AUTH_ANONYMOUS_ENABLED: text(config.grafana.anonymousViewer),
        GF_AUTH_ANONYMOUS_ORG_ROLE: text("Viewer"),
        GF_ANALYTICS_REPORTING_ENABLED: text(false),
        INFLUX_URL: influxUrl,
        INFLUX_DB: text(influx.database),
        INFLUX_READER_USER: text(influx.readerUser),
        INFLUX_READER_PASSWORD: [env.secret("influxReaderPassword")],
      },
      ports: [{ name: "http", port: 3000, protocol: "http", public: true }],
      volumes: [
        {
          name: "data",
          path: "/var/lib/grafana",
          uid: 472,
          gid: 0,
          purpose: "data",
          persistence: "preferred",
          sizeGb: config.grafana.volumeGb,
        },
      ],
      health: {
        http: { port: "http", path: "/api/health" },
        // The Grafana image is Alpine (busybox wget); curl is the fallback for other variants.
        command:
          "wget -q -O /dev/null http://127.0.0.1:3000/api/health || curl -sf -o /dev/null http://127.0.0.1:3000/api/health",
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 6,
        startPeriodSeconds: 30,
      },
      resources: { memoryMb: config.grafana.memoryMb, cpus: config.grafana.cpus },
      // SQLite in the volume: one instance.
      scaling: single,
      dependsOn: [{ service: "bootstrap", condition: "completed" }],
      stopGraceSeconds: 30,
    },
    {
      name: "backup",
      kind: "job",
      description: "InfluxDB (influxd backup -portable) and Redis state to the backup store, with retention",
      image: SERVICES_IMAGE,
      command: ["backup"],
      schedule: {
        cron: config.backup.schedule,
        inStack: {
          command: ["scheduler"],
          env: { METRICS_PORT: text(METRICS_PORT) } satisfies Partial<EnvFor<typeof opsEnvironment, EnvValue>>,
          // Prometheus `/metrics` (mixstack_backup_*) and `/healthz`: 503 after a failed run, or a run
          // longer than the ops lock's lifetime (docs/operations.md).
          ports: [{ name: "metrics", port: METRICS_PORT, protocol: "http", public: false }],
          health: {
            http: { port: "metrics", path: "/healthz" },
            command: nodeHttpCheckWithReason(METRICS_PORT, "/healthz"),
            intervalSeconds: 30,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: 30,
          },
        },
      },
      env: {
        REDIS_URL: redisUrl,
        INFLUX_URL: influxUrl,
        INFLUX_DB: text(influx.database),
        INFLUX_USER: text(influx.adminUser),
        INFLUX_PASSWORD: [env.secret("influxAdminPassword")],
        INFLUX_BACKUP_ADDR: [env.endpoint("influxdb", "rpc")],
        BACKUP_TARGET: backupTarget.kind === "url" ? text(backupTarget.url) : [env.backupStore()],
        BACKUP_SCHEDULE: text(config.backup.schedule),
        BACKUP_KEEP_DAILY: text(config.backup.keepDaily),
        BACKUP_KEEP_WEEKLY: text(config.backup.keepWeekly),
        MIXSTACK_STACK: text(config.stack),
        LOG_LEVEL: logLevel,
      } satisfies EnvFor<typeof opsEnvironment, EnvValue>,
      ports: [],
      volumes:
        backupTarget.kind === "platform"
          ? [
              {
                name: "backups",
                path: "/backups",
                // The `node` user of the services image.
                uid: 1000,
                gid: 1000,
                purpose: "backups",
                persistence: "required",
                sizeGb: config.backup.volumeGb,
              },
            ]
          : [],
      resources: { memoryMb: config.backup.memoryMb, cpus: config.backup.cpus },
      scaling: single,
      dependsOn: [
        { service: "influxdb", condition: "healthy" },
        { service: "queue", condition: "healthy" },
        { service: "bootstrap", condition: "completed" },
      ],
      stopGraceSeconds: 60,
    },
  ];

  // An external InfluxDB replaces ours, and the backup job (influxd backup over its RPC port) goes with it.
  const removed = new Set<ServiceName>(external ? ["influxdb", "backup"] : []);
  const selected = services
    .filter((spec) => !removed.has(spec.name))
    .map((spec) => ({ ...spec, dependsOn: spec.dependsOn.filter((dependency) => !removed.has(dependency.service)) }))
    .map((spec) => (spec.name === "queue" && config.queue.managed ? asManaged(spec) : spec));
  const notices = external
    ? [
        `InfluxDB is external (${external.url}): the stack deploys no InfluxDB and no backup job; backing up that database is its provider's job.`,
      ]
    : [];
  const withEdges = selected.map((service) => ({ ...service, talksTo: edgesOf(service) }));
  const secrets = secretNames.filter((name) =>
    withEdges.some((service) => Object.values(service.env).some((value) => references(value).some((ref) => ref.kind === "secret" && ref.secret === name))),
  );
  return {
    stack: config.stack,
    services: withEdges,
    secrets,
    backupTarget,
    keepDataOnDestroy: config.keepDataOnDestroy,
    notices,
  };
}

/** The platform runs this service from its managed offering: nothing of the container remains. */
function asManaged(spec: Omit<ServiceSpec, "talksTo">): Omit<ServiceSpec, "talksTo"> {
  return { ...spec, entrypoint: undefined, command: undefined, env: {}, volumes: [], managed: { engine: "valkey" } };
}

/**
 * The service as a platform without a scheduler service runs it: a scheduled job becomes its
 * in-stack scheduler (command, and the env, ports and health check that form adds); any other
 * service is returned as it is.
 */
export function inStackForm(spec: ServiceSpec): ServiceSpec {
  if (!spec.schedule) return spec;
  const { inStack } = spec.schedule;
  return {
    ...spec,
    command: inStack.command,
    env: { ...spec.env, ...inStack.env },
    ports: [...spec.ports, ...inStack.ports],
    health: inStack.health,
  };
}

/** The references of one env value, in order. */
export function references(value: EnvValue): EnvRef[] {
  return value.filter((part): part is EnvRef => typeof part !== "string");
}

/** True when the resolved value contains a secret: platforms store the whole value as a secret. */
export function isSecretEnv(value: EnvValue): boolean {
  return references(value).some((ref) => ref.kind === "secret");
}

function edgesOf(service: Omit<ServiceSpec, "talksTo">): Edge[] {
  const edges = new Map<string, Edge>();
  for (const value of Object.values(service.env)) {
    for (const ref of references(value)) {
      if (ref.kind === "endpoint") edges.set(`${ref.service}:${ref.port}`, { from: service.name, to: ref.service, port: ref.port });
    }
  }
  return [...edges.values()];
}

/**
 * Resolves an env template with a platform's resolvers (each returns a piece of text or a Pulumi
 * Output; the platform concatenates them). Generic so that pure tests can resolve to strings.
 */
export function resolveEnv<T>(
  value: EnvValue,
  resolve: { text(text: string): T; secret(ref: SecretRef): T; endpoint(ref: EndpointRef): T; backupStore(): T },
): T[] {
  return value.map((part) => {
    if (typeof part === "string") return resolve.text(part);
    switch (part.kind) {
      case "secret":
        return resolve.secret(part);
      case "endpoint":
        return resolve.endpoint(part);
      case "backupStore":
        return resolve.backupStore();
    }
  });
}

export function service(topology: Topology, name: ServiceName): ServiceSpec {
  const found = topology.services.find((s) => s.name === name);
  if (!found) throw new Error(`topology has no service "${name}"`);
  return found;
}

export function port(spec: ServiceSpec, name: string): PortSpec {
  const found = spec.ports.find((p) => p.name === name);
  if (!found) throw new Error(`service "${spec.name}" has no port "${name}"`);
  return found;
}

/**
 * Services in an order where every dependency comes before its dependents (platforms create
 * resources in this order and wire `dependsOn` from `Dependency`).
 */
export function startOrder(topology: Topology): ServiceSpec[] {
  const ordered: ServiceSpec[] = [];
  const visiting = new Set<ServiceName>();
  const visit = (spec: ServiceSpec) => {
    if (ordered.includes(spec)) return;
    if (visiting.has(spec.name)) throw new Error(`dependency cycle through "${spec.name}"`);
    visiting.add(spec.name);
    for (const dependency of spec.dependsOn) visit(service(topology, dependency.service));
    visiting.delete(spec.name);
    ordered.push(spec);
  };
  topology.services.forEach(visit);
  return ordered;
}

/** Inconsistencies a platform could not translate; empty for a well-formed topology. */
export function topologyProblems(topology: Topology): string[] {
  const problems: string[] = [];
  const names = new Set(topology.services.map((s) => s.name));
  for (const spec of topology.services) {
    for (const edge of spec.talksTo) {
      const target = topology.services.find((s) => s.name === edge.to);
      if (!target) problems.push(`${spec.name} talks to unknown service ${edge.to}`);
      else if (!target.ports.some((p) => p.name === edge.port)) problems.push(`${spec.name} talks to ${edge.to}:${edge.port}, which has no such port`);
    }
    for (const dependency of spec.dependsOn) {
      const target = topology.services.find((s) => s.name === dependency.service);
      if (!target) problems.push(`${spec.name} depends on unknown service ${dependency.service}`);
      else if (dependency.condition === "completed" && target.kind !== "init") problems.push(`${spec.name} waits for ${dependency.service} to complete, but it is not an init service`);
      else if (dependency.condition === "healthy" && !target.health) problems.push(`${spec.name} waits for ${dependency.service} to be healthy, but it has no health check`);
    }
    if (spec.ports.some((p) => p.public) && spec.kind !== "stateless") problems.push(`${spec.name} has a public port but is ${spec.kind}`);
    if (spec.kind === "job" && !spec.schedule) problems.push(`${spec.name} is a job without a schedule`);
    if (spec.schedule) {
      const inStack = inStackForm(spec);
      if (spec.schedule.inStack.ports.some((p) => p.public)) problems.push(`${spec.name}'s in-stack scheduler has a public port`);
      const probe = inStack.health?.http;
      if (probe && !inStack.ports.some((p) => p.name === probe.port)) problems.push(`${spec.name}'s in-stack health check probes port ${probe.port}, which it does not have`);
    }
    if (spec.image.kind === "pinned" && !isPinned(spec.image.ref)) problems.push(`${spec.name} image ${spec.image.ref} is not pinned to an exact version`);
  }
  if (names.size !== topology.services.length) problems.push("duplicate service names");
  try {
    startOrder(topology);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

/** `name:1.2.3[-variant]` or `name@sha256:...`; never `latest`, a bare major or no tag. */
export function isPinned(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const tag = ref.slice(ref.lastIndexOf("/") + 1).split(":")[1];
  return tag !== undefined && /^v?\d+\.\d+\.\d+([-.][A-Za-z0-9.-]+)?$/.test(tag);
}

/**
 * What a platform deployed, in platform-neutral terms: the parity contract. Every platform
 * component exposes one built from the resources it created; the parity test compares it with
 * `expectedSummary(topology)` (see docs/topology.md).
 */
export interface DeploymentSummary {
  services: Array<{
    name: ServiceName;
    kind: ServiceKind;
    image: string;
    /** Container ports reachable from outside the stack. */
    publicPorts: number[];
    /** Mount paths of the volumes that outlive the container. */
    volumes: string[];
    command: string[];
  }>;
  /** `from -> to:containerPort`, sorted: the network paths the platform wired (and allowed). */
  edges: string[];
}

export function imageLabel(image: ImageSpec): string {
  return image.kind === "pinned" ? image.ref : `build:${image.build}`;
}

/** `managed:valkey` for a managed service, the image label otherwise. */
export function serviceImageLabel(spec: ServiceSpec): string {
  return spec.managed ? `managed:${spec.managed.engine}` : imageLabel(spec.image);
}

export function edgeLabel(from: ServiceName, to: ServiceName, containerPort: number): string {
  return `${from} -> ${to}:${containerPort}`;
}

/**
 * What a platform may legitimately leave out of its summary's volumes (docs/topology.md, "The
 * parity test"): `preferredEphemeral`, its `persistence: preferred` volumes are ephemeral (Grafana
 * on Cloud Run). A backups volume replaced by the platform's bucket still counts as deployed.
 */
export interface VolumeSubstitutions {
  preferredEphemeral?: boolean;
}

/** The summary any platform must produce for this topology. */
export function expectedSummary(topology: Topology, substitutions: VolumeSubstitutions = {}): DeploymentSummary {
  const kept = (volume: VolumeSpec) => !(substitutions.preferredEphemeral && volume.persistence === "preferred");
  return {
    services: topology.services
      .map((spec) => ({
        name: spec.name,
        kind: spec.kind,
        image: serviceImageLabel(spec),
        publicPorts: spec.ports.filter((p) => p.public).map((p) => p.port).sort((a, b) => a - b),
        volumes: spec.volumes.filter(kept).map((v) => v.path).sort(),
        command: spec.command ?? [],
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    edges: topology.services
      .flatMap((spec) => spec.talksTo.map((edge) => edgeLabel(edge.from, edge.to, port(service(topology, edge.to), edge.port).port)))
      .sort(),
  };
}
