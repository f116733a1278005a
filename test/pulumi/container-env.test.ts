import { exec } from "node:child_process";
import { topologyFor } from "../../components/stack";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../config/load";
import type { SecretName } from "../../config/secrets";
import { inStackForm, resolveEnv, service, type ServiceName, type Topology } from "../../components/topology";
import { freePort, ManagedProcess, waitFor } from "../../services/dev/processes";
import { bundleServices } from "../../services/image/bundle";
import { InfluxClient } from "../../services/core/influx";
import { redisClient, scratchDir, startTestInflux, startTestRedis, track } from "../harness/services";
import { makeTestCertificate, send } from "../ingest/support";
import { pulumiConfig } from "./mocks";

/**
 * The env the Pulumi program gives the containers, run for real: the services image's bundle
 * (`bootstrap`, `ingest`, `worker`) against a password-protected redis-server and an auth-enabled
 * influxd, with exactly the variables of the topology. Only the addresses differ: Docker resolves
 * `queue:6379` by network alias, here every endpoint is a loopback port.
 */

const root = resolve(__dirname, "..", "..");

/** Runs a shell command as Docker's CMD-SHELL does; resolves to its exit code. */
function execShell(command: string): Promise<number> {
  return execShellOutput(command).then((result) => result.code);
}

/** As `execShell`, with what the command printed (Docker keeps it in the container's health log). */
function execShellOutput(command: string): Promise<{ code: number; output: string }> {
  return new Promise((done) =>
    exec(command, { timeout: 20_000 }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` })),
  );
}
const secrets: Record<SecretName, string> = {
  projectToken: "0123456789abcdef0123456789abcdef",
  apiSecret: "apisecret0123456789",
  influxAdminPassword: "AdminPassword0123456789",
  influxWriterPassword: "WriterPassword0123456789",
  influxReaderPassword: "ReaderPassword0123456789",
  grafanaAdminPassword: "GrafanaPassword0123456789",
  grafanaSecretKey: "GrafanaSecretKey0123456789",
  queuePassword: "QueuePassword0123456789",
};

describe("the containers' env, run against real services", () => {
  let topology: Topology;
  let bundle: string;
  let endpoints: Record<string, string>;
  let influxUrl: string;

  beforeAll(async () => {
    const raw = pulumiConfig({ values: { platform: "docker" } });
    topology = topologyFor(parseStackConfig({ stack: "local", values: raw.config, secretKeys: new Set() }));
    const out = scratchDir("bundle");
    await bundleServices(out);
    bundle = join(out, "mixstack.js");

    const redis = await startTestRedis();
    const admin = await redisClient(redis.url);
    await admin.configSet("requirepass", secrets.queuePassword);
    const influx = await startTestInflux({ authEnabled: true });
    influxUrl = influx.url;
    endpoints = { "queue:redis": `127.0.0.1:${redis.port}`, "influxdb:http": `127.0.0.1:${influx.httpPort}`, "influxdb:rpc": influx.backupAddr };
  });

  /** `inStack`: the env of the service's in-stack form (the backup scheduler container on Docker). */
  function envFor(name: ServiceName, extra: NodeJS.ProcessEnv = {}, of: Topology = topology, inStack = false): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const spec = inStack ? inStackForm(service(of, name)) : service(of, name);
    for (const [key, value] of Object.entries(spec.env)) {
      env[key] = resolveEnv(value, {
        text: (t) => t,
        secret: (ref) => secrets[ref.secret],
        endpoint: (ref) => endpoints[`${ref.service}:${ref.port}`]!,
        backupStore: () => "file:///backups",
      }).join("");
    }
    // Loopback ports chosen by the test replace the container ports.
    return { ...env, ...extra };
  }

  function bundled(name: string, command: string, env: NodeJS.ProcessEnv, ready: () => Promise<void>): ManagedProcess {
    return track(
      new ManagedProcess({
        name: `bundle ${command}`,
        command: process.execPath,
        args: [bundle, command],
        // As the Dockerfile sets it: the GeoIP data outside node_modules.
        env: { ...env, GEODATADIR: join(root, "node_modules", "geoip-lite", "data"), LOG_LEVEL: "warn" },
        cwd: scratchDir(name),
        ready,
      }),
    );
  }

  it("bootstrap creates the users the worker and Grafana log in with", async () => {
    const bootstrap = bundled("bootstrap", "bootstrap", envFor("bootstrap"), async () => undefined);
    await bootstrap.start();
    expect(await bootstrap.waitForExit(120_000)).toBe(0);
    const reader = new InfluxClient({ url: influxUrl, username: "mixstack_reader", password: secrets.influxReaderPassword });
    const databases = await reader.rows("SHOW DATABASES");
    expect(databases.map((row) => row.name)).toContain("mixevents");
  });

  it("an event sent to ingest with the project token lands in InfluxDB through the worker, and every container health check passes", async () => {
    const ingestPort = await freePort();
    const metricsPort = await freePort();
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;
    // METRICS_PORT only because 9464 may be taken on a shared machine (and is used by both); in a container it is the topology's.
    await bundled("ingest", "ingest", envFor("ingest", { PORT: String(ingestPort), METRICS_PORT: String(await freePort()) }), () =>
      waitFor("ingest /readyz", async () => (await fetch(`${ingestUrl}/readyz`)).ok, { timeoutMs: 30_000 }).then(() => undefined),
    ).start();
    await bundled("worker", "worker", envFor("worker", { METRICS_PORT: String(metricsPort) }), () =>
      waitFor("worker /healthz", async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok, { timeoutMs: 30_000 }).then(() => undefined),
    ).start();

    const event = { event: "deploy_check", properties: { token: secrets.projectToken, distinct_id: "u1", $insert_id: "deploy-check-1", time: Date.now() } };
    const response = await fetch(`${ingestUrl}/track`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `data=${encodeURIComponent(JSON.stringify([event]))}`,
    });
    expect(await response.text()).toBe("1");

    // Read back as Grafana would: the reader user and its password from the same topology.
    const reader = new InfluxClient({ url: influxUrl, username: "mixstack_reader", password: secrets.influxReaderPassword });
    const rows = await waitFor(
      "the event in InfluxDB",
      async () => {
        const found = await reader.rows(`SELECT "distinct_id" FROM "events" WHERE "event" = 'deploy_check'`, { db: "mixevents" });
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(rows.map((row) => row.distinct_id)).toEqual(["u1"]);

    // The containers' health checks, run as Docker's CMD-SHELL would, with the test's ports in place of the container ports.
    const influxPort = endpoints["influxdb:http"]!.split(":")[1]!;
    const checks = [
      ["influxdb", /:8086\//, `:${influxPort}/`],
      ["ingest", /:8080\//, `:${ingestPort}/`],
      ["worker", /:9464\//, `:${metricsPort}/`],
    ] as const;
    const nobody = await freePort();
    for (const [name, containerPort, testPort] of checks) {
      const command = service(topology, name).health!.command;
      expect(command).toMatch(containerPort);
      expect([name, await execShell(command.replace(containerPort, testPort))]).toEqual([name, 0]);
      // The same check against a port nobody listens on fails: it really probes.
      expect([name, await execShell(command.replace(containerPort, `:${nobody}/`))]).not.toEqual([name, 0]);
    }
  });

  it("the backup scheduler container backs up with its env, and its health check passes, then fails with the reason after a failed run", async () => {
    const spec = inStackForm(service(topology, "backup"));
    const check = spec.health!.command;
    expect(check).toMatch(/:9464\//);
    const scheduler = async (name: string, extra: NodeJS.ProcessEnv) => {
      const metricsPort = await freePort();
      // The backups volume and the scratch space are directories of the test; every second instead of nightly.
      const env = envFor("backup", { BACKUP_TARGET: `file://${scratchDir("backups")}`, BACKUP_WORK_DIR: scratchDir("backup-work"), BACKUP_SCHEDULE: "* * * * * *", METRICS_PORT: String(metricsPort), ...extra }, topology, true);
      const url = `http://127.0.0.1:${metricsPort}`;
      const running = await bundled(name, "scheduler", env, () => waitFor(`${name} /healthz`, async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000 }).then(() => undefined)).start();
      return { running, url, check: check.replace(/:9464\//, `:${metricsPort}/`) };
    };

    // With exactly the topology's variables (admin user, password-protected queue, the RPC address).
    const healthy = await scheduler("scheduler", {});
    await waitFor("a successful scheduled backup", async () => /^mixstack_backup_runs_total\{outcome="success"\} [1-9]/m.test(await (await fetch(`${healthy.url}/metrics`)).text()), { timeoutMs: 120_000, intervalMs: 250 });
    expect(await execShellOutput(healthy.check)).toEqual({ code: 0, output: "ok\n" });
    expect(await execShell(check.replace(/:9464\//, `:${await freePort()}/`))).not.toBe(0);
    // One scheduler per stack: a second one beside it would find the ops lock taken.
    await healthy.running.stop();

    // A run that fails (its database is missing): the same check fails and prints why.
    const failing = await scheduler("scheduler-failing", { INFLUX_DB: "missing" });
    await waitFor("/healthz to turn 503", async () => (await fetch(`${failing.url}/healthz`)).status === 503, { timeoutMs: 120_000, intervalMs: 250 });
    const result = await execShellOutput(failing.check);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/^last scheduled backup, at \S+Z, failed.*: InfluxDB database missing does not exist/);
  }, 300_000);

  it("ingest with docker.tls serves HTTPS with the mounted files, passes its health check, and keeps /metrics on the private port", async () => {
    const tlsTopology = topologyFor(
      parseStackConfig({
        stack: "local",
        values: pulumiConfig({ values: { platform: "docker", docker: { tls: { certFile: "/host/cert.pem", keyFile: "/host/key.pem" } } } }).config,
        secretKeys: new Set(),
      }),
    );
    const ingestSpec = service(tlsTopology, "ingest");
    // The container paths of the mounted files, here a certificate made for the test.
    const { certFile, keyFile, cert } = makeTestCertificate();
    const env = envFor("ingest", {}, tlsTopology);
    expect([env.MIXSTACK_TLS_CERT_FILE, env.MIXSTACK_TLS_KEY_FILE]).toEqual([ingestSpec.tls!.certPath, ingestSpec.tls!.keyPath]);
    const [ingestPort, metricsPort] = [await freePort(), await freePort()];
    const url = `https://127.0.0.1:${ingestPort}`;
    await bundled("ingest-tls", "ingest", { ...env, PORT: String(ingestPort), METRICS_PORT: String(metricsPort), MIXSTACK_TLS_CERT_FILE: certFile, MIXSTACK_TLS_KEY_FILE: keyFile }, () =>
      waitFor("ingest /readyz over HTTPS", async () => (await send(`${url}/readyz`, { ca: cert })).status === 200, { timeoutMs: 30_000 }).then(() => undefined),
    ).start();

    const event = { event: "tls_check", properties: { token: secrets.projectToken, distinct_id: "u1" } };
    const tracked = await send(`${url}/track`, { ca: cert, headers: { "content-type": "application/x-www-form-urlencoded" }, body: `data=${encodeURIComponent(JSON.stringify([event]))}` });
    expect([tracked.status, tracked.text]).toEqual([200, "1"]);
    // Plain HTTP on the public port gets no answer an SDK could mistake for success.
    await expect(send(`http://127.0.0.1:${ingestPort}/healthz`)).rejects.toThrow();

    // The container's health check, with the test's port in place of the container port.
    const check = ingestSpec.health!.command.replace(/port:8080\b/, `port:${ingestPort}`);
    expect(check).not.toBe(ingestSpec.health!.command);
    const healthy = await execShell(check);
    expect(healthy).toBe(0);

    expect((await send(`${url}/metrics`, { ca: cert })).status).toBe(404);
    const metrics = await send(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.text).toMatch(/^mixstack_ingest_requests_total\{route="track",status="200"\} 1$/m);
  });
});
