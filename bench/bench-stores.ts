import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InfluxClient } from "../services/core/influx";
import { createLogger } from "../services/core/log";
import { startInfluxd, startRedisServer, type Influxd, type ManagedProcess } from "../services/dev/processes";
import type { OpsContext } from "../services/ops/context";
import { progressReporter, silentProgress } from "../services/ops/progress";
import { createRedis, type Redis } from "../services/ops/redis-state";
import { openStore } from "../services/ops/store";

/** What the ops benchmarks (bench/backup.ts, bench/forget.ts) start: influxd, redis-server, a file store. */

export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - start) / 1e9];
}

export interface BenchStores {
  root: string;
  influx: Influxd;
  client: InfluxClient;
  redis: Redis;
  /** The backup agent's context over them, with a `file://` store in the temporary directory. */
  ctx: OpsContext;
  /** Stops what was started (by PID) and removes the directory. */
  stop(): Promise<void>;
}

/** Its own influxd and redis-server on free loopback ports, the database created, in a temporary directory. */
export async function startBenchStores(label: string, db: string): Promise<BenchStores> {
  const root = mkdtempSync(join(tmpdir(), `mixstack-bench-${label}-`));
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const process of started.reverse()) await process.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const influx = await startInfluxd({ dir: join(root, "influxd") });
    started.push(influx);
    const redisServer = await startRedisServer({ dir: join(root, "redis") });
    started.push(redisServer);
    const client = new InfluxClient({ url: influx.url, timeoutMs: 600_000 });
    const redis = createRedis(redisServer.url);
    await redis.connect();
    await client.query(`CREATE DATABASE ${db}`);
    const logger = createLogger(`bench-${label}`, "warn");
    const ctx: OpsContext = {
      stack: "bench",
      db,
      influx: client,
      influxd: { binary: "influxd", host: influx.backupAddr },
      redis,
      store: openStore(`file://${join(root, "store")}`),
      workDir: join(root, "work"),
      logger,
      progress: process.stderr.isTTY ? progressReporter(logger) : silentProgress,
      now: () => new Date(),
      retention: { keepDaily: 7, keepWeekly: 4 },
    };
    return {
      root,
      influx,
      client,
      redis,
      ctx,
      async stop() {
        if (redis.isOpen) await redis.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
