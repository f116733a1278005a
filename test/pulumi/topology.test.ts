import { describe, expect, it } from "vitest";
import { topologyFor as stackTopology } from "../../components/stack";
import { parseStackConfig } from "../../config/load";
import {
  expectedSummary,
  inStackForm,
  isPinned,
  resolveEnv,
  service,
  startOrder,
  topologyProblems,
  type EnvValue,
  type ServiceName,
  type Topology,
} from "../../components/topology";
import { pulumiConfig } from "./mocks";

function topologyFor(values: Record<string, unknown> = {}, stack = "local"): Topology {
  const raw = pulumiConfig({ values: { platform: "docker", ...values } });
  return stackTopology(parseStackConfig({ stack, values: raw.config, secretKeys: new Set() }));
}

/** Resolves a template the way a platform would, with recognisable stand-ins. */
function render(value: EnvValue): string {
  return resolveEnv(value, {
    text: (t) => t,
    secret: (ref) => `<${ref.secret}>`,
    endpoint: (ref) => `${ref.service}:${ref.port}`,
    backupStore: () => "<store>",
  }).join("");
}

describe("topology", () => {
  it.each([
    ["the defaults", {}],
    ["an external backup target", { backup: { target: "s3://bucket/mixstack" } }],
    ["scaled ingest and workers", { ingest: { minReplicas: 2, maxReplicas: 8 }, worker: { replicas: 3 } }],
  ])("is consistent for %s", (_name, values) => {
    expect(topologyProblems(topologyFor(values))).toEqual([]);
  });

  it("has the seven services with their kinds", () => {
    expect(Object.fromEntries(topologyFor().services.map((s) => [s.name, s.kind]))).toEqual({
      influxdb: "stateful",
      queue: "stateful",
      bootstrap: "init",
      ingest: "stateless",
      worker: "worker",
      grafana: "stateless",
      backup: "job",
    });
  });

  it("derives exactly the network paths the env needs", () => {
    expect(expectedSummary(topologyFor()).edges).toEqual([
      "backup -> influxdb:8086",
      "backup -> influxdb:8088",
      "backup -> queue:6379",
      "bootstrap -> influxdb:8086",
      "grafana -> influxdb:8086",
      "ingest -> queue:6379",
      "worker -> influxdb:8086",
      "worker -> queue:6379",
    ]);
  });

  it.each([
    ["influxdb", "/var/lib/influxdb", 1500, 1500, "required"],
    ["queue", "/data", 999, 999, "required"],
    ["grafana", "/var/lib/grafana", 472, 0, "preferred"],
    ["backup", "/backups", 1000, 1000, "required"],
  ] as const)("gives %s a persistent volume at %s owned by %i:%i", (name, path, uid, gid, persistence) => {
    expect(service(topologyFor(), name).volumes).toEqual([expect.objectContaining({ path, uid, gid, persistence })]);
  });

  it("publishes only ingest's API and Grafana; InfluxDB's 8086/8088, the queue and the metrics ports stay private", () => {
    const ports = topologyFor().services.flatMap((s) => s.ports.map((p) => `${s.name}:${p.name}:${p.port}:${p.public ? "public" : "private"}`));
    expect(ports.sort()).toEqual([
      "grafana:http:3000:public",
      "influxdb:http:8086:private",
      "influxdb:rpc:8088:private",
      "ingest:http:8080:public",
      "ingest:metrics:9464:private",
      "queue:redis:6379:private",
      "worker:metrics:9464:private",
    ]);
  });

  it.each<[ServiceName]>([["ingest"], ["worker"]])("tells %s the metrics port the topology declares, and nothing in the stack talks to it", (name) => {
    const topology = topologyFor();
    const spec = service(topology, name);
    expect(render(spec.env.METRICS_PORT!)).toBe(String(spec.ports.find((p) => p.name === "metrics")!.port));
    expect(topology.services.flatMap((s) => s.talksTo).filter((edge) => edge.to === name)).toEqual([]);
  });

  it("gives the backup job's in-stack form (Docker) the scheduler command, a private metrics port, its METRICS_PORT and a health check on it", () => {
    const backup = service(topologyFor(), "backup");
    const inStack = inStackForm(backup);
    expect(inStack.command).toEqual(["scheduler"]);
    expect(inStack.ports).toEqual([{ name: "metrics", port: 9464, protocol: "http", public: false }]);
    expect(render(inStack.env.METRICS_PORT!)).toBe("9464");
    expect(inStack.health?.http).toEqual({ port: "metrics", path: "/healthz" });
    expect(inStack.health?.command).toContain("http://127.0.0.1:9464/healthz");
    // Everything else of the job is kept as it is.
    expect(Object.keys(inStack.env).filter((name) => name !== "METRICS_PORT")).toEqual(Object.keys(backup.env));
    expect([inStack.volumes, inStack.dependsOn, inStack.talksTo, inStack.kind]).toEqual([backup.volumes, backup.dependsOn, backup.talksTo, "job"]);
  });

  it("keeps the scheduler's port, env and health check out of the job the clouds run as a task", () => {
    const backup = service(topologyFor(), "backup");
    expect([backup.command, backup.ports, backup.health, backup.env.METRICS_PORT]).toEqual([["backup"], [], undefined, undefined]);
  });

  it("leaves every service that is not a scheduled job as it is in the in-stack form", () => {
    const topology = topologyFor();
    for (const spec of topology.services.filter((s) => s.name !== "backup")) expect(inStackForm(spec)).toBe(spec);
  });

  it("reports an in-stack scheduler with a public port or a health check on a port it lacks", () => {
    const topology = topologyFor();
    const backup = service(topologyFor(), "backup");
    const inStack = backup.schedule!.inStack;
    const broken: Topology = {
      ...topology,
      services: topology.services.map((s) =>
        s.name === "backup"
          ? { ...s, schedule: { ...s.schedule!, inStack: { ...inStack, ports: [{ ...inStack.ports[0]!, name: "admin", public: true }] } } }
          : s,
      ),
    };
    expect(topologyProblems(broken)).toEqual(["backup's in-stack scheduler has a public port", "backup's in-stack health check probes port metrics, which it does not have"]);
  });

  it("serves ingest over HTTPS only when the Docker stack gives it a certificate", () => {
    const plain = service(topologyFor(), "ingest");
    const tls = service(topologyFor({ docker: { tls: { certFile: "/etc/tls/cert.pem", keyFile: "/etc/tls/key.pem" } } }), "ingest");
    expect([plain.tls, plain.env.MIXSTACK_TLS_CERT_FILE]).toEqual([undefined, undefined]);
    expect(tls.tls).toEqual({ certPath: "/run/mixstack/tls/cert.pem", keyPath: "/run/mixstack/tls/key.pem" });
    expect([render(tls.env.MIXSTACK_TLS_CERT_FILE!), render(tls.env.MIXSTACK_TLS_KEY_FILE!)]).toEqual([tls.tls!.certPath, tls.tls!.keyPath]);
    expect(tls.health!.command).toContain("require('https')");
  });

  it.each<[ServiceName, string, string]>([
    ["ingest", "REDIS_URL", "redis://:<queuePassword>@queue:redis"],
    ["ingest", "MIXSTACK_TOKEN", "<projectToken>"],
    ["worker", "INFLUX_URL", "http://influxdb:http"],
    ["worker", "INFLUX_USER", "mixstack_writer"],
    ["worker", "INFLUX_PASSWORD", "<influxWriterPassword>"],
    ["bootstrap", "INFLUX_PASSWORD", "<influxAdminPassword>"],
    ["bootstrap", "INFLUX_READER_USER", "mixstack_reader"],
    ["grafana", "INFLUX_READER_PASSWORD", "<influxReaderPassword>"],
    ["grafana", "GF_SECURITY_ADMIN_PASSWORD", "<grafanaAdminPassword>"],
    ["backup", "INFLUX_BACKUP_ADDR", "influxdb:rpc"],
    ["backup", "BACKUP_TARGET", "<store>"],
    ["backup", "MIXSTACK_STACK", "local"],
    ["queue", "REDISCLI_AUTH", "<queuePassword>"],
    // Docker cannot filter by port: the RPC port stays on loopback, the backup job in InfluxDB's namespace.
    ["influxdb", "INFLUXDB_BIND_ADDRESS", "127.0.0.1:8088"],
    ["grafana", "GF_SECURITY_SECRET_KEY", "<grafanaSecretKey>"],
    ["grafana", "GF_SECURITY_COOKIE_SECURE", "false"],
  ])("wires %s's %s as %s", (name, variable, expected) => {
    expect(render(service(topologyFor(), name).env[variable]!)).toBe(expected);
  });

  it("writes backups to a configured URL without a backups volume", () => {
    const backup = service(topologyFor({ backup: { target: "s3://bucket/mixstack" } }), "backup");
    expect(render(backup.env.BACKUP_TARGET!)).toBe("s3://bucket/mixstack");
    expect(backup.volumes).toEqual([]);
  });

  it("starts InfluxDB before bootstrap, and bootstrap before the worker, Grafana and backups", () => {
    const order = startOrder(topologyFor()).map((s) => s.name);
    const before = (a: ServiceName, b: ServiceName) => order.indexOf(a) < order.indexOf(b);
    expect([before("influxdb", "bootstrap"), before("bootstrap", "worker"), before("bootstrap", "grafana"), before("bootstrap", "backup"), before("queue", "ingest")]).toEqual([true, true, true, true, true]);
  });

  it("reports a dependency cycle and a wire to a missing port", () => {
    const topology = topologyFor();
    const broken: Topology = {
      ...topology,
      services: topology.services.map((s) =>
        s.name === "influxdb"
          ? { ...s, dependsOn: [{ service: "bootstrap", condition: "completed" }] }
          : s.name === "worker"
            ? { ...s, talksTo: [...s.talksTo, { from: "worker", to: "queue", port: "admin" }] }
            : s,
      ),
    };
    expect(topologyProblems(broken)).toEqual(["worker talks to queue:admin, which has no such port", 'dependency cycle through "influxdb"']);
  });

  it("lists every secret the env references", () => {
    expect(topologyFor().secrets).toEqual([
      "projectToken",
      "apiSecret",
      "influxAdminPassword",
      "influxWriterPassword",
      "influxReaderPassword",
      "grafanaAdminPassword",
      "grafanaSecretKey",
      "queuePassword",
    ]);
  });

  it("caps the queue's own memory below its container limit", () => {
    const queue = service(topologyFor({ queue: { memoryMb: 1024 } }), "queue");
    expect(queue.command).toEqual(expect.arrayContaining(["--maxmemory", "768mb", "--maxmemory-policy", "noeviction", "--appendfsync", "everysec"]));
  });

  it.each([
    ["influxdb:1.12.4", true],
    ["valkey/valkey:8.1.8", true],
    ["grafana/grafana:13.0.1-ubuntu", true],
    ["registry:5000/x/y:1.2.3", true],
    [`influxdb@sha256:${"a".repeat(64)}`, true],
    ["influxdb:latest", false],
    ["influxdb", false],
    ["influxdb:1.12", false],
    ["valkey/valkey:8", false],
    ["registry:5000/x/y", false],
  ])("judges %s pinned: %s", (ref, pinned) => {
    expect(isPinned(ref)).toBe(pinned);
  });
});
