import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort, ManagedProcess, repoRoot, waitFor, type Influxd, type RedisServer } from "../../services/dev/processes";
import { bootstrapInflux } from "../../services/worker/bootstrap";
import { createLogger } from "../../services/core/log";
import { startTestInflux, startTestRedis, track as trackProcess } from "../harness/services";
import { figures } from "./support";

/**
 * Finding 7 of issue 12, "natively started services collide": ingest and the worker both
 * defaulted `METRICS_PORT` to 9464, so started side by side on one host (as a newcomer following
 * the docs would) the second lost its metrics listener: the worker logged a bare `listen
 * EADDRINUSE` and ran on without metrics, an ingest started second never became healthy.
 */

interface LogLine {
  level?: number;
  msg?: string;
  url?: string;
  port?: number;
  err?: { code?: string; message?: string };
  [key: string]: unknown;
}

function logLines(process: ManagedProcess): LogLine[] {
  return process.output
    .join("")
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

function metricsUrlOf(process: ManagedProcess): string | undefined {
  return logLines(process).find((line) => line.msg === "metrics listening" && typeof line.url === "string")?.url;
}

/** `mixstack <command>` as its own process; ready once its log says `readyMessage`. */
async function startNative(command: "ingest" | "worker", env: NodeJS.ProcessEnv, readyMessage: string): Promise<ManagedProcess> {
  const child: ManagedProcess = new ManagedProcess({
    name: `mixstack ${command}`,
    command: process.execPath,
    args: [join(repoRoot, "bin", "mixstack.cjs"), command],
    env: { LOG_LEVEL: "info", ...env },
    cwd: repoRoot,
    ready: () => waitFor(`${command}: "${readyMessage}"`, () => logLines(child).some((line) => line.msg === readyMessage), { timeoutMs: 30_000 }).then(() => undefined),
  });
  return trackProcess(await child.start());
}

async function serves(url: string | undefined, prefix: string): Promise<boolean> {
  if (!url) return false;
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
    return response.ok && (await response.text()).includes(prefix);
  } catch {
    return false;
  }
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(server));
  });
}

describe("abuse: services started side by side natively", () => {
  let redis: RedisServer;
  let influx: Influxd;

  beforeAll(async () => {
    redis = await startTestRedis();
    influx = await startTestInflux();
    await bootstrapInflux({ INFLUX_URL: influx.url, INFLUX_DB: "mixevents", INFLUX_RETENTION: "INF", BOOTSTRAP_WAIT_S: 30, BOOTSTRAP_INTERNAL_WAIT_S: 0, LOG_LEVEL: "warn" }, createLogger("bootstrap", "silent"));
  });

  const ingestEnv = async () => ({ PORT: String(await freePort()), MIXSTACK_LISTEN_HOST: "127.0.0.1", REDIS_URL: redis.url, MIXSTACK_TOKEN: "t", MIXSTACK_GEOIP: "false" });
  const workerEnv = () => ({ REDIS_URL: redis.url, INFLUX_URL: influx.url, WORKER_CONSUMER: `native-${Math.random().toString(36).slice(2)}` });

  it("a worker and then an ingest, both without METRICS_PORT, both serve /metrics", async () => {
    const worker = await startNative("worker", workerEnv(), "worker started");
    let ingest: ManagedProcess | undefined;
    let ingestProblem = "";
    try {
      ingest = await startNative("ingest", await ingestEnv(), "ingest listening");
    } catch (error) {
      ingestProblem = (error as Error).message.slice(0, 300);
    }
    const workerUrl = metricsUrlOf(worker);
    const ingestUrl = ingest ? metricsUrlOf(ingest) : undefined;
    const workerServes = await waitFor("worker /metrics", () => serves(workerUrl, "mixstack_worker_"), { timeoutMs: 5_000 }).catch(() => false);
    const ingestServes = await waitFor("ingest /metrics", () => serves(ingestUrl, "mixstack_ingest_"), { timeoutMs: 5_000 }).catch(() => false);
    figures("native-side-by-side", { workerUrl, ingestUrl, workerServes, ingestServes, ingestProblem, workerErrors: logLines(worker).filter((line) => (line.level ?? 0) >= 50).map((line) => line.msg) });
    await ingest?.stop();
    await worker.stop();

    expect(ingestProblem).toBe("");
    expect(workerServes).toBe(true);
    expect(ingestServes).toBe(true);
    expect(workerUrl).not.toBe(ingestUrl);
  });

  it.each(["worker", "ingest"] as const)(
    "a %s whose METRICS_PORT is taken runs on, logs a structured error, and serves /metrics once the port is free",
    async (command) => {
      const port = await freePort();
      const blocker = await occupy(port);
      const env = command === "worker" ? { ...workerEnv(), METRICS_PORT: String(port) } : { ...(await ingestEnv()), METRICS_PORT: String(port) };
      let child: ManagedProcess | undefined;
      let problem = "";
      try {
        child = await startNative(command, env, command === "worker" ? "worker started" : "ingest listening");
      } catch (error) {
        problem = (error as Error).message.slice(0, 300);
      }
      const failure = child ? logLines(child).find((line) => line.level === 50 && /metrics/.test(line.msg ?? "")) : undefined;
      const aliveWhileBlocked = child?.running ?? false;
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      const url = `http://127.0.0.1:${port}`;
      const servedLater = child ? await waitFor("metrics once the port is free", () => serves(url, `mixstack_${command}_`), { timeoutMs: 20_000, intervalMs: 250 }).catch(() => false) : false;
      figures(`metrics-port-taken-${command}`, { problem, failure, aliveWhileBlocked, servedLater });
      await child?.stop();

      expect(problem).toBe("");
      expect(aliveWhileBlocked).toBe(true);
      expect(failure).toMatchObject({ level: 50, port, err: { code: "EADDRINUSE" } });
      expect(servedLater).toBe(true);
    },
  );
});
