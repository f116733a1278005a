import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runInNewContext } from "node:vm";
import { transformSync } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateStack, type StackEvaluation } from "../../cli/graph/program";
import { readStackFile, stackNames } from "../../cli/graph/stack-file";
import { evaluateOffline, OfflineMocks } from "../../cli/graph/offline";
import { ConfigError, PROJECT } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import { createStack } from "../../components/stack";
import { isPinned } from "../../components/topology";
import { evaluate, plainStrings, pulumiConfig, resourcesOfType, unwrapSecrets, type Evaluation, type RecordedResource } from "./mocks";

const root = resolve(__dirname, "..", "..");
const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";

interface ContainerInputs {
  name: string;
  image: string;
  envs?: unknown;
  ports?: Array<{ internal: number; external?: number; ip?: string }>;
  publishAllPorts?: boolean;
  volumes?: Array<{ containerPath: string; volumeName?: string; hostPath?: string }>;
  networksAdvanced?: Array<{ name: string; aliases?: string[] }>;
  labels?: Array<{ label: string; value: string }>;
  restart?: string;
  memory?: number;
  logDriver?: string;
  logOpts?: Record<string, string>;
  healthcheck?: { tests: string[]; startPeriod?: string };
  networkMode?: string;
  wait?: boolean;
  waitTimeout?: number;
}

function containers(evaluation: Evaluation): Map<string, { resource: RecordedResource; inputs: ContainerInputs }> {
  const byService = new Map<string, { resource: RecordedResource; inputs: ContainerInputs }>();
  for (const resource of resourcesOfType(evaluation, CONTAINER)) {
    const inputs = resource.inputs as unknown as ContainerInputs;
    const service = inputs.labels?.find((l) => l.label === "mixstack.service")?.value;
    if (service) byService.set(service, { resource, inputs });
  }
  return byService;
}

function container(evaluation: Evaluation, service: string): ContainerInputs {
  const found = containers(evaluation).get(service);
  if (!found) throw new Error(`no container for ${service}`);
  return found.inputs;
}

/** The container's env as a map, secrets unwrapped (the wiring is what is checked here). */
function envOf(evaluation: Evaluation, service: string): Record<string, string> {
  const envs = unwrapSecrets(container(evaluation, service).envs) as string[];
  return Object.fromEntries(envs.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

/** Variable names of the runtime contract: the env table of docs/contracts.md plus Grafana's line. */
function contractEnvNames(): Set<string> {
  const contracts = readFileSync(join(root, "docs", "contracts.md"), "utf8");
  const section = contracts.slice(contracts.indexOf("## Environment"), contracts.indexOf("## Redis"));
  return new Set([...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
}

/** Runs the `mixpanelSnippet` output as a web page's bundler would, with a recording stand-in for the SDK. */
function runSnippet(snippet: string): Array<{ token: unknown; options: Record<string, unknown> }> {
  const calls: Array<{ token: unknown; options: Record<string, unknown> }> = [];
  const sdk = { init: (token: unknown, options: Record<string, unknown>) => calls.push({ token, options }) };
  const { code } = transformSync(snippet, { format: "cjs", loader: "js" });
  const require = (name: string) => {
    if (name !== "mixpanel-browser") throw new Error(`the snippet imports ${name}`);
    return { __esModule: true, default: sdk };
  };
  runInNewContext(code, { require, module: { exports: {} }, exports: {} });
  return calls;
}

// The Docker example stacks (the others belong to their platform's tests).
const examples = stackNames(root).filter((name) => readStackFile(name, root).config["mixstack:platform"] === "docker");

describe("example stacks", () => {
  it("include the default local stack and a remote host with host directories", () => {
    expect(examples).toEqual(expect.arrayContaining(["local", "remote"]));
  });
});

describe.each(examples)("Docker target, stack %s", (stack) => {
  let evaluation: StackEvaluation;
  let dataDir: string | undefined;

  beforeAll(async () => {
    evaluation = await evaluateStack(stack, root);
    const config = evaluation.stack.topology;
    dataDir = stack === "remote" ? "/srv/mixstack" : undefined;
    expect(config.stack).toBe(stack);
  });

  it.each([
    ["influxdb", "/var/lib/influxdb"],
    ["queue", "/data"],
    ["grafana", "/var/lib/grafana"],
    ["backup", "/backups"],
  ])("mounts persistent storage into %s at %s", (service, path) => {
    const mounts = (container(evaluation, service).volumes ?? []).filter((v) => v.containerPath === path);
    expect(mounts).toHaveLength(1);
    const mount = mounts[0]!;
    if (dataDir) {
      // The directories docs/deploy.md promises: DIR/influxdb, DIR/queue, DIR/grafana, DIR/backups.
      expect(mount.hostPath).toBe(`${dataDir}/${service === "backup" ? "backups" : service}`);
    } else {
      const volume = resourcesOfType(evaluation, VOLUME).find((v) => v.inputs.name === mount.volumeName);
      expect(volume, `a docker volume named ${mount.volumeName}`).toBeDefined();
    }
  });

  it("gives each stateful service and the backups storage of their own", () => {
    const sources = ["influxdb", "queue", "grafana", "backup"].flatMap((service) =>
      (container(evaluation, service).volumes ?? []).map((v) => v.hostPath ?? v.volumeName),
    );
    expect(sources).toHaveLength(4);
    expect(new Set(sources).size).toBe(4);
  });

  it("keeps the data on destroy by default", () => {
    const volumes = resourcesOfType(evaluation, VOLUME);
    if (dataDir) {
      // Host directories are never deleted by Docker or Pulumi.
      expect(volumes).toEqual([]);
      const hostPaths = [...containers(evaluation).values()].flatMap(({ inputs }) => (inputs.volumes ?? []).map((v) => v.hostPath));
      expect(hostPaths.every((p) => p === undefined || p.startsWith(`${dataDir}/`))).toBe(true);
    } else {
      expect(volumes.map((v) => [v.name, v.options.retainOnDelete])).toEqual(volumes.map((v) => [v.name, true]));
      expect(volumes.length).toBe(4);
    }
  });

  it("publishes only ingest's and Grafana's ports; InfluxDB's 8086/8088 and the queue's stay private", () => {
    const published = [...containers(evaluation).entries()].flatMap(([service, { inputs }]) => {
      expect(inputs.publishAllPorts ?? false).toBe(false);
      return (inputs.ports ?? []).map((p) => `${service}:${p.internal}->${p.external}`);
    });
    expect(published.sort()).toEqual(["grafana:3000->3000", "ingest:8080->8080"]);
  });

  it.each([
    ["ingest", "REDIS_URL", /^redis:\/\/:(\w+)@queue:6379$/],
    ["worker", "REDIS_URL", /^redis:\/\/:(\w+)@queue:6379$/],
    ["worker", "INFLUX_URL", /^http:\/\/influxdb:8086$/],
    ["grafana", "INFLUX_URL", /^http:\/\/influxdb:8086$/],
    ["bootstrap", "INFLUX_URL", /^http:\/\/influxdb:8086$/],
    // The backup job runs in InfluxDB's network namespace (its RPC port is on loopback).
    ["backup", "INFLUX_URL", /^http:\/\/127\.0\.0\.1:8086$/],
    ["backup", "INFLUX_BACKUP_ADDR", /^127\.0\.0\.1:8088$/],
    ["backup", "REDIS_URL", /^redis:\/\/:(\w+)@queue:6379$/],
  ])("points %s's %s at the right container and port", (service, variable, pattern) => {
    expect(envOf(evaluation, service)[variable]).toMatch(pattern);
  });

  it("gives each pair of namespaces an edge joins a network of its own, the target aliased by its name there", () => {
    const networks = resourcesOfType(evaluation, "docker:index/network:Network").map((n) => n.inputs.name as string);
    const prefix = `mixstack-${stack}`;
    expect(networks.sort()).toEqual(["backup-queue", "bootstrap-influxdb", "grafana-influxdb", "ingest-queue", "worker-influxdb", "worker-queue"].map((pair) => `${prefix}-${pair}`));
    const attached = (service: string) => (container(evaluation, service).networksAdvanced ?? []).map((n) => [n.name, n.aliases ?? []]);
    expect(attached("queue")).toEqual([
      [`${prefix}-backup-queue`, ["queue"]],
      [`${prefix}-ingest-queue`, ["queue"]],
      [`${prefix}-worker-queue`, ["queue"]],
    ]);
    expect(attached("influxdb")).toEqual([
      // For the backup job in its namespace.
      [`${prefix}-backup-queue`, []],
      [`${prefix}-bootstrap-influxdb`, ["influxdb"]],
      [`${prefix}-grafana-influxdb`, ["influxdb"]],
      [`${prefix}-worker-influxdb`, ["influxdb"]],
    ]);
    expect(attached("ingest")).toEqual([[`${prefix}-ingest-queue`, []]]);
    expect(attached("worker")).toEqual([
      [`${prefix}-worker-influxdb`, []],
      [`${prefix}-worker-queue`, []],
    ]);
    expect(attached("grafana")).toEqual([[`${prefix}-grafana-influxdb`, []]]);
    expect(attached("bootstrap")).toEqual([[`${prefix}-bootstrap-influxdb`, []]]);
  });

  it("runs the backup job in InfluxDB's network namespace, never on the host's", () => {
    // The ID of InfluxDB's container: a replaced InfluxDB replaces the backup container too.
    expect(container(evaluation, "backup").networkMode).toMatch(/^container:\S+$/);
    expect(container(evaluation, "backup").networksAdvanced).toBeUndefined();
    // Only the volume owner (host directories) has no network at all; nobody is on the host's.
    expect(containers(evaluation).get("volume-owner")?.inputs.networkMode ?? "none").toBe("none");
    for (const [service, { inputs }] of containers(evaluation)) expect([service, inputs.networkMode === "host"]).toEqual([service, false]);
  });

  it.each([
    // DESIGN.md §3: what each command reads.
    ["ingest", ["PORT", "REDIS_URL", "MIXSTACK_TOKEN", "MIXSTACK_API_SECRET"]],
    ["worker", ["REDIS_URL", "INFLUX_URL", "INFLUX_DB", "INFLUX_USER", "INFLUX_PASSWORD"]],
  ])("gives %s every variable of the runtime contract it reads", (service, names) => {
    const env = envOf(evaluation, service);
    expect(names.filter((name) => !env[name])).toEqual([]);
  });

  it("lets the worker write to the database bootstrap creates, as the writer user", () => {
    expect(envOf(evaluation, "worker")).toMatchObject({ INFLUX_DB: "mixevents", INFLUX_USER: "mixstack_writer" });
    expect(envOf(evaluation, "bootstrap")).toMatchObject({ INFLUX_DB: "mixevents", INFLUX_WRITER_USER: "mixstack_writer" });
  });

  it("listens in ingest on the container port it publishes, with the token the stack outputs", () => {
    const ingest = envOf(evaluation, "ingest");
    expect(container(evaluation, "ingest").ports?.map((p) => String(p.internal))).toEqual([ingest.PORT]);
    expect(ingest.MIXSTACK_TOKEN).toBe(evaluation.outputs.projectToken?.value);
    expect(evaluation.generatedSecrets).toContain(ingest.MIXSTACK_API_SECRET);
    expect(ingest.MIXSTACK_API_SECRET).not.toBe(ingest.MIXSTACK_TOKEN);
  });

  it("hands every service the same secret as its counterpart", () => {
    const queuePassword = /^redis:\/\/:(\w+)@/.exec(envOf(evaluation, "ingest").REDIS_URL!)![1];
    expect(envOf(evaluation, "queue").REDISCLI_AUTH).toBe(queuePassword);
    expect(envOf(evaluation, "worker").INFLUX_PASSWORD).toBe(envOf(evaluation, "bootstrap").INFLUX_WRITER_PASSWORD);
    expect(envOf(evaluation, "grafana").INFLUX_READER_PASSWORD).toBe(envOf(evaluation, "bootstrap").INFLUX_READER_PASSWORD);
    expect(envOf(evaluation, "backup").INFLUX_PASSWORD).toBe(envOf(evaluation, "bootstrap").INFLUX_PASSWORD);
    expect(envOf(evaluation, "worker").INFLUX_USER).toBe(envOf(evaluation, "bootstrap").INFLUX_WRITER_USER);
    expect(envOf(evaluation, "grafana").INFLUX_READER_USER).toBe(envOf(evaluation, "bootstrap").INFLUX_READER_USER);
    expect(envOf(evaluation, "grafana").GF_SECURITY_ADMIN_PASSWORD).toBe(evaluation.outputs.grafanaAdminPassword?.value);
  });

  it("uses only the runtime contract's env names for our services", () => {
    const contract = contractEnvNames();
    for (const service of ["ingest", "worker", "bootstrap", "backup"]) {
      const unknown = Object.keys(envOf(evaluation, service)).filter((name) => !contract.has(name));
      expect(unknown, `${service} env names missing from docs/contracts.md`).toEqual([]);
    }
    const grafanaContract = ["INFLUX_URL", "INFLUX_DB", "INFLUX_READER_USER", "INFLUX_READER_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"];
    expect(Object.keys(envOf(evaluation, "grafana"))).toEqual(expect.arrayContaining(grafanaContract));
  });

  it("configures InfluxDB for auth, tsi1, no reporting and a private backup port", () => {
    expect(envOf(evaluation, "influxdb")).toMatchObject({
      INFLUXDB_HTTP_AUTH_ENABLED: "true",
      INFLUXDB_DATA_INDEX_VERSION: "tsi1",
      INFLUXDB_REPORTING_DISABLED: "true",
      // Loopback only: the backup job shares InfluxDB's network namespace, nothing else reaches it.
      INFLUXDB_BIND_ADDRESS: "127.0.0.1:8088",
    });
  });

  it("runs the queue with AOF every second, noeviction and a password", () => {
    const queue = resourcesOfType(evaluation, CONTAINER).find((r) => (r.inputs as { name?: string }).name?.endsWith("-queue"))!;
    const args = [...(queue.inputs.entrypoints as string[]), ...(queue.inputs.command as string[])].join(" ");
    expect(args).toContain("--requirepass \"$REDISCLI_AUTH\"");
    expect(args).toMatch(/--appendonly yes --appendfsync everysec --maxmemory-policy noeviction/);
  });

  it("gives every long-running container a restart policy, a memory limit and log rotation", () => {
    for (const [service, { inputs }] of containers(evaluation)) {
      if (service === "bootstrap" || service === "volume-owner") continue;
      expect([service, inputs.restart, inputs.memory! > 0, inputs.logDriver, inputs.logOpts]).toEqual([
        service,
        "unless-stopped",
        true,
        "json-file",
        { "max-size": "10m", "max-file": "5" },
      ]);
    }
  });

  it.each([
    ["influxdb", /127\.0\.0\.1:8086\/ping/],
    ["queue", /valkey-cli ping/],
    ["ingest", /127\.0\.0\.1'?(:|,port:)8080'?,?(path:')?\/healthz/],
    ["worker", /127\.0\.0\.1:9464\/healthz/],
    ["grafana", /127\.0\.0\.1:3000\/api\/health/],
    ["backup", /127\.0\.0\.1:9464\/healthz/],
  ])("health-checks %s on its own port, and the deploy waits until it is healthy", (service, probe) => {
    const { healthcheck, wait, waitTimeout } = container(evaluation, service);
    expect(healthcheck?.tests[0]).toBe("CMD-SHELL");
    expect(healthcheck?.tests[1]).toMatch(probe);
    expect(wait).toBe(true);
    expect(waitTimeout).toBeGreaterThan(Number.parseInt(healthcheck!.startPeriod!, 10));
  });

  it("runs bootstrap to completion before the worker and Grafana start", () => {
    const bootstrap = containers(evaluation).get("bootstrap")!;
    // Health-gated (components/docker/init-run.ts): the deploy waits for the mark `mixstack bootstrap` leaves when it succeeded.
    expect(bootstrap.inputs).toMatchObject({ wait: true, mustRun: true, restart: "no", attach: false, command: ["mixstack", "bootstrap"] });
    expect((bootstrap.inputs as unknown as { entrypoints: string[] }).entrypoints.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(bootstrap.inputs.healthcheck?.tests).toEqual(["CMD", "test", "-f", "/tmp/mixstack-init-done"]);
    for (const service of ["worker", "grafana", "backup"]) {
      const dependent = containers(evaluation).get(service)!;
      expect(dependent.resource.options.dependsOn).toContain(bootstrap.resource.name);
      // Created only after bootstrap succeeded (a failed run fails its own create); the label says so.
      expect(dependent.inputs.labels).toContainEqual({ label: "mixstack.after.bootstrap", value: "0" });
    }
  });

  it("runs the backup scheduler with the backup env and the backups store", () => {
    const backup = container(evaluation, "backup");
    expect((backup as unknown as { command: string[] }).command).toEqual(["scheduler"]);
    expect(envOf(evaluation, "backup")).toMatchObject({
      BACKUP_TARGET: "file:///backups",
      BACKUP_SCHEDULE: stack === "remote" ? "30 2 * * *" : "0 3 * * *",
      MIXSTACK_STACK: stack,
    });
  });

  it("gives the backup scheduler METRICS_PORT and a health check on that port, which it never publishes", () => {
    const backup = container(evaluation, "backup");
    const metricsPort = envOf(evaluation, "backup").METRICS_PORT;
    expect(metricsPort).toBe("9464");
    expect(backup.healthcheck?.tests[1]).toContain(`http://127.0.0.1:${metricsPort}/healthz`);
    expect([backup.ports ?? [], backup.publishAllPorts ?? false]).toEqual([[], false]);
    // Reachable from the stack's networks only, like the worker's: nothing maps it to the host.
    expect(backup.networkMode).toMatch(/^container:/);
  });

  it("pins every image: third-party tags exact, our builds deployed by image ID", () => {
    const pulled = resourcesOfType(evaluation, "docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name as string);
    const built = resourcesOfType(evaluation, "docker:index/image:Image").map((r) => r.inputs.imageName as string);
    expect(pulled.sort()).toEqual(["influxdb:1.12.4", "valkey/valkey:8.1.8"]);
    expect([...pulled, ...built].filter((ref) => !isPinned(ref))).toEqual([]);
    const images = resourcesOfType(evaluation, CONTAINER).map((r) => r.inputs.image as string);
    expect(images.filter((image) => !/^sha256:[0-9a-f]{64}$/.test(image))).toEqual([]);
  });

  it("never shows a secret in plain text anywhere in the graph or the outputs", () => {
    expect(evaluation.generatedSecrets.length).toBeGreaterThan(0);
    const visible = evaluation.resources.flatMap((r) => plainStrings(r.inputs, `${r.type}:${r.name}`));
    const leaks = visible.filter(({ text }) => evaluation.generatedSecrets.some((secret) => text.includes(secret)));
    expect(leaks).toEqual([]);
    for (const key of ["projectToken", "mixpanelSnippet", "grafanaAdminPassword"]) expect([key, evaluation.outputs[key]?.secret]).toEqual([key, true]);
    for (const key of ["ingestUrl", "grafanaUrl", "backupTarget", "backupJob"]) expect([key, evaluation.outputs[key]?.secret]).toEqual([key, false]);
  });

  it("outputs the URLs of ingest and Grafana and where the backups go", () => {
    const expected =
      stack === "remote"
        ? ["https://analytics.example.com:8080", "https://analytics.example.com:3000", "file:///srv/mixstack/backups"]
        : ["http://localhost:8080", "http://localhost:3000", "docker-volume://mixstack-local-backup-backups"];
    expect([evaluation.outputs.ingestUrl?.value, evaluation.outputs.grafanaUrl?.value, evaluation.outputs.backupTarget?.value]).toEqual(expected);
    // The backup target is the storage the backup container writes to.
    const mount = container(evaluation, "backup").volumes!.find((v) => v.containerPath === "/backups")!;
    expect(evaluation.outputs.backupTarget?.value).toBe(mount.hostPath ? `file://${mount.hostPath}` : `docker-volume://${mount.volumeName}`);
  });

  it("outputs a mixpanel-browser snippet that sends to ingest with the token ingest accepts", () => {
    const calls = runSnippet(evaluation.outputs.mixpanelSnippet?.value as string);
    expect(calls).toEqual([{ token: envOf(evaluation, "ingest").MIXSTACK_TOKEN, options: expect.objectContaining({ api_host: evaluation.outputs.ingestUrl?.value }) }]);
  });

  it("generates each of the eight secrets nobody configured as 32 random letters and digits, kept in the state", () => {
    const generated = resourcesOfType(evaluation, "random:index/randomPassword:RandomPassword");
    expect(generated.map((r) => [r.name, r.inputs.length, r.inputs.special]).sort()).toEqual(
      ["api-secret", "grafana-admin-password", "grafana-secret-key", "influx-admin-password", "influx-reader-password", "influx-writer-password", "project-token", "queue-password"].map(
        (name) => [`mixstack-secrets-${name}`, 32, false],
      ),
    );
  });

  it("gives every resource a unique name", () => {
    const names = evaluation.resources.map((r) => r.name);
    expect(names.length).toBe(new Set(names).size);
  });
});

describe("Docker target, configured secrets and options", () => {
  const given = {
    projectToken: "tok0123456789abcdef",
    apiSecret: "apisecret0123456789",
    influxAdminPassword: "admin-password-0123",
    grafanaAdminPassword: "grafana-password-0123",
    queuePassword: "queue-password-0123",
  };

  it("keeps configured secrets out of every plain input", async () => {
    const evaluation = await evaluate(
      { stack: "local", values: { platform: "docker", ...given }, secretKeys: Object.keys(given) },
      () => ({ ...createStack(readStackConfig()).outputs }),
    );
    const visible = evaluation.resources.flatMap((r) => plainStrings(r.inputs));
    const leaks = visible.filter(({ text }) => Object.values(given).some((secret) => text.includes(secret)));
    expect(leaks).toEqual([]);
    // Only the secrets nobody configured are generated.
    expect(resourcesOfType(evaluation, "random:index/randomPassword:RandomPassword").map((r) => r.name).sort()).toEqual([
      "mixstack-secrets-grafana-secret-key",
      "mixstack-secrets-influx-reader-password",
      "mixstack-secrets-influx-writer-password",
    ]);
    expect(envOf(evaluation, "ingest").REDIS_URL).toBe("redis://:queue-password-0123@queue:6379");
    expect(evaluation.outputs.projectToken).toEqual({ value: given.projectToken, secret: true });
  });

  it("deletes the volumes on destroy only when the stack says so", async () => {
    const evaluation = await evaluate({ values: { platform: "docker", keepDataOnDestroy: "false" } }, () => ({ ...createStack(readStackConfig()).outputs }));
    expect(resourcesOfType(evaluation, VOLUME).map((v) => v.options.retainOnDelete)).toEqual([false, false, false, false]);
  });

  it.each([
    ["named volumes, data deleted on destroy", { keepDataOnDestroy: "false" }, []],
    ["host directories, data kept", { docker: { dataDir: "/srv/data" } }, []],
    [
      "host directories, data asked to be deleted",
      { keepDataOnDestroy: "false", docker: { dataDir: "/srv/data" } },
      ["keepDataOnDestroy is false, but the host directories under /srv/data (docker.dataDir) are never deleted by `pulumi destroy`: remove them on the Docker host yourself."],
    ],
  ])("tells the operator what destroy keeps: %s", async (_name, values, notices) => {
    const evaluation = await evaluate({ values: { platform: "docker", ...values } }, () => ({ ...createStack(readStackConfig()).outputs }));
    // Grafana's plain-HTTP notice is another matter (test/pulumi/docker-tls.test.ts).
    const about = (evaluation.outputs.notices?.value as string[]).filter((notice) => !notice.startsWith("Grafana is served over plain HTTP"));
    expect(about).toEqual(notices);
  });

  it("publishes on the configured host ports and address", async () => {
    const evaluation = await evaluate(
      { values: { platform: "docker", docker: { ingestPort: 9080, grafanaPort: 9300, bindAddress: "10.0.0.5", publicHost: "a.example" } } },
      () => ({ ...createStack(readStackConfig()).outputs }),
    );
    expect(container(evaluation, "ingest").ports).toEqual([{ internal: 8080, external: 9080, ip: "10.0.0.5", protocol: "tcp" }]);
    expect(container(evaluation, "grafana").ports).toEqual([{ internal: 3000, external: 9300, ip: "10.0.0.5", protocol: "tcp" }]);
    expect([evaluation.outputs.ingestUrl?.value, evaluation.outputs.grafanaUrl?.value]).toEqual(["http://a.example:9080", "http://a.example:9300"]);
  });

  it("brackets an IPv6 public host in the URLs", async () => {
    const evaluation = await evaluate({ values: { platform: "docker", docker: { publicHost: "2001:db8::7", bindAddress: "::" } } }, () => ({
      ...createStack(readStackConfig()).outputs,
    }));
    expect([evaluation.outputs.ingestUrl?.value, evaluation.outputs.grafanaUrl?.value]).toEqual(["http://[2001:db8::7]:8080", "http://[2001:db8::7]:3000"]);
    expect(container(evaluation, "ingest").ports?.[0]?.ip).toBe("::");
  });

  it("runs each container on its image's ID, so a rebuild of our images changes (replaces) exactly their containers", async () => {
    const run = () => ({ ...createStack(readStackConfig()).outputs });
    const program = { project: PROJECT, stack: "test", ...pulumiConfig({ values: { platform: "docker" } }), run };
    /** The same program after a rebuild: our two images get new IDs, the pulled ones keep theirs. */
    class Rebuilt extends OfflineMocks {
      override newResource(args: Parameters<OfflineMocks["newResource"]>[0]) {
        const result = super.newResource(args);
        if (args.type === "docker:index/image:Image") result.state.repoDigest = `sha256:${createHash("sha256").update(`rebuilt:${args.name}`).digest("hex")}`;
        return result;
      }
    }
    const imagesOf = (evaluation: Evaluation) => Object.fromEntries([...containers(evaluation)].map(([service, { inputs }]) => [service, inputs.image]));
    const before = imagesOf(await evaluateOffline(program));
    const after = imagesOf(await evaluateOffline(program, new Rebuilt()));
    const changed = Object.keys(before).filter((service) => before[service] !== after[service]).sort();
    expect(changed).toEqual(["backup", "bootstrap", "grafana", "ingest", "worker"]);
    // One services image for our four commands, its own for Grafana, the pulled ones for InfluxDB and the queue.
    expect(new Set(["backup", "bootstrap", "ingest", "worker"].map((service) => before[service])).size).toBe(1);
    expect(new Set(Object.values(before)).size).toBe(4);
  });

  it("talks to a remote engine through its own provider", async () => {
    const evaluation = await evaluate(
      { values: { platform: "docker", docker: { host: "ssh://deploy@h.example", sshOpts: ["-p", "2222"] } } },
      () => ({ ...createStack(readStackConfig()).outputs }),
    );
    expect(resourcesOfType(evaluation, "pulumi:providers:docker").map((p) => [p.inputs.host, p.inputs.sshOpts])).toEqual([
      ["ssh://deploy@h.example", JSON.stringify(["-p", "2222"])],
    ]);
    expect(evaluation.outputs.backupJob?.value).toEqual({
      platform: "docker",
      dockerHost: "ssh://deploy@h.example",
      // Where the backup job, in InfluxDB's namespace, reaches the queue.
      network: "mixstack-test-backup-queue",
      container: "mixstack-test-backup",
    });
  });

  it("backs up to a configured URL without a backups volume", async () => {
    const evaluation = await evaluate({ values: { platform: "docker", backup: { target: "s3://bucket/mixstack" } } }, () => ({
      ...createStack(readStackConfig()).outputs,
    }));
    expect(envOf(evaluation, "backup").BACKUP_TARGET).toBe("s3://bucket/mixstack");
    expect(container(evaluation, "backup").volumes).toEqual([]);
    expect(evaluation.outputs.backupTarget?.value).toBe("s3://bucket/mixstack");
  });
});

describe("a bad stack config", () => {
  it.each([
    ["a wrong type", { platform: "docker", influxdb: { memoryMb: "lots" } }, 'mixstack:influxdb.memoryMb: expected a number, got "lots"'],
    ["an unknown platform", { platform: "azure" }, 'mixstack:platform: unknown platform "azure" (supported: docker, aws, gcp)'],
    ["a missing required key", { docker: { ingestPort: 8080 } }, "mixstack:platform: is required (one of: docker, aws, gcp)"],
  ])("with %s fails before any resource is created", async (_name, values, message) => {
    const mocks = new OfflineMocks();
    const run = evaluateOffline(
      { project: PROJECT, stack: "broken", ...pulumiConfig({ values }), run: () => ({ ...createStack(readStackConfig()).outputs }) },
      mocks,
    );
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(`invalid stack config in stacks/Pulumi.broken.yaml:\n  ${message}`);
    expect(mocks.registered.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});
