import { execFile } from "node:child_process";
import { join } from "node:path";
import { InfluxClient } from "../../services/core/influx";
import { createLogger } from "../../services/core/log";
import { encodeEntry, redisKeys } from "../../services/core/queue";
import { startPipeline, type Pipeline } from "../../services/dev/pipeline";
import { repoRoot } from "../../services/dev/processes";
import type { OpsContext } from "../../services/ops/context";
import { silentProgress } from "../../services/ops/progress";
import { FIRST_SEEN_KEY, createRedis, type Redis } from "../../services/ops/redis-state";
import { openStore } from "../../services/ops/store";
import { influxClient, scratchDir, startTestInflux, startTestRedis, track } from "../harness/services";
import { afterAll } from "vitest";

/**
 * Test data with the documented schema (docs/contracts.md): `events` points with the idempotent
 * timestamp and the Redis keys and encodings the worker keeps. Used until ingest and the worker can
 * produce it through the pipeline, and for the cases the pipeline cannot make on demand.
 */

export const DB = "mixevents";

export interface OpsStack {
  influx: Awaited<ReturnType<typeof startTestInflux>>;
  redisServer: Awaited<ReturnType<typeof startTestRedis>>;
  client: InfluxClient;
  redis: Redis;
  backupDir: string;
  target: string;
  env: NodeJS.ProcessEnv;
  context(overrides?: Partial<OpsContext>): OpsContext;
}

export async function startOpsStack(): Promise<OpsStack> {
  const [influx, redisServer] = await Promise.all([startTestInflux(), startTestRedis()]);
  const client = influxClient(influx);
  await client.query(`CREATE DATABASE ${DB}`);
  const redis = createRedis(redisServer.url);
  redis.on("error", () => undefined);
  await redis.connect();
  afterAll(async () => {
    if (redis.isOpen) await redis.close();
  });
  const backupDir = join(scratchDir("backups"), "store");
  const target = `file://${backupDir}`;
  const workDir = scratchDir("ops-work");
  const env = {
    REDIS_URL: redisServer.url,
    INFLUX_URL: influx.url,
    INFLUX_DB: DB,
    INFLUX_BACKUP_ADDR: influx.backupAddr,
    BACKUP_TARGET: target,
    BACKUP_WORK_DIR: workDir,
    MIXSTACK_STACK: "test",
    LOG_LEVEL: "warn",
  };
  return {
    influx,
    redisServer,
    client,
    redis,
    backupDir,
    target,
    env,
    context: (overrides = {}) => ({
      stack: "test",
      db: DB,
      influx: client,
      influxd: { binary: "influxd", host: influx.backupAddr },
      redis,
      store: openStore(target),
      workDir,
      logger: createLogger("ops-test", "warn"),
      progress: silentProgress,
      now: () => new Date(),
      retention: { keepDaily: 7, keepWeekly: 4 },
      ...overrides,
    }),
  };
}

/** The sub-millisecond offset the worker derives from `$insert_id` (any stable hash will do here). */
function offsetOf(insertId: string): number {
  let hash = 0;
  for (const char of insertId) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000;
  return hash;
}

/** `count` events, `batch` per write, in the `events` schema (string, float, integer and boolean fields); insert ids `${prefix}-${i}`. */
export async function writeEvents(client: InfluxClient, count: number, options: { prefix?: string; startMs?: number; batch?: number } = {}): Promise<void> {
  const { prefix = "e", startMs = Date.UTC(2026, 9, 1), batch = 5000 } = options;
  for (let start = 0; start < count; start += batch) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(count, start + batch); i += 1) {
      const insertId = `${prefix}-${i}`;
      const ms = startMs + i * 1000;
      const event = ["Signed Up", "Viewed Page", "Purchased"][i % 3]!.replace(/ /g, "\\ ");
      const lib = i % 2 ? "web" : "node";
      lines.push(`events,event=${event},mp_lib=${lib} distinct_id="user-${i % 50}",insert_id="${insertId}",price=${i % 7}.5,quantity=${i % 5}i,first=${i % 4 === 0} ${BigInt(ms) * 1_000_000n + BigInt(offsetOf(insertId))}`);
    }
    await client.write(lines.join("\n"), { db: DB });
  }
}

export async function countEvents(client: InfluxClient, db = DB): Promise<number> {
  const rows = await client.rows(`SELECT count("insert_id") FROM "${db}"."autogen"."events"`);
  return Number(rows[0]?.count ?? 0);
}

/** Identity map, profiles, groups, a dead letter and queued entries, as the worker and ingest leave them. */
export async function seedRedisState(redis: Redis, profiles = 20): Promise<void> {
  for (let i = 0; i < profiles; i += 1) {
    await redis.hSet(redisKeys.identityMap, `device-${i}`, `user-${i}`);
    await redis.hSet(FIRST_SEEN_KEY, `user-${i}`, `2026-10-${String(1 + (i % 28)).padStart(2, "0")}`);
    await redis.hSet(redisKeys.profile(`user-${i}`), { $name: JSON.stringify(`User ${i}`), plan: JSON.stringify(i % 2 ? "pro" : "free"), logins: String(i), tags: JSON.stringify(["a", i]) });
    await redis.sAdd(redisKeys.profileIndex, `user-${i}`);
  }
  await redis.hSet(redisKeys.groupProfile("company", "acme"), { $name: JSON.stringify("Acme"), seats: "12" });
  await redis.sAdd(redisKeys.groupIndex, "company:acme");
  await redis.xAdd(redisKeys.deadLetters, "*", {
    ...encodeEntry({ kind: "track", items: [], received: Date.UTC(2026, 9, 1) }),
    reason: "items are not an array",
    failed_at: String(Date.UTC(2026, 9, 1)),
    deliveries: "6",
  });
  await redis.xAdd(redisKeys.stream, "*", encodeEntry({ kind: "engage", received: Date.UTC(2026, 9, 2), items: [{ distinctId: "user-1", time: Date.UTC(2026, 9, 2), ignoreTime: false, ops: { $add: { logins: 1 } } }] }));
  await redis.xAdd(redisKeys.stream, "*", encodeEntry({ kind: "track", received: Date.UTC(2026, 9, 2), items: [{ event: "Late", time: Date.UTC(2026, 9, 2), insertId: "late-1", distinctId: "user-2", properties: {} }] }));
}

/** Everything a restore must bring back, in a comparable form. */
export async function snapshotRedisState(redis: Redis) {
  const profiles: Record<string, Record<string, string>> = {};
  for (const id of (await redis.sMembers(redisKeys.profileIndex)).sort()) profiles[id] = { ...(await redis.hGetAll(redisKeys.profile(id))) };
  const groups: Record<string, Record<string, string>> = {};
  for (const member of (await redis.sMembers(redisKeys.groupIndex)).sort()) groups[member] = { ...(await redis.hGetAll(`mx:group:${member}`)) };
  const streamItems = ((await redis.xRange(redisKeys.stream, "-", "+")) ?? []).map((entry) => entry!.message.items);
  const deadLetters = ((await redis.xRange(redisKeys.deadLetters, "-", "+")) ?? []).map((entry) => entry!.message.reason);
  return {
    identities: { ...(await redis.hGetAll(redisKeys.identityMap)) },
    firstSeen: { ...(await redis.hGetAll(FIRST_SEEN_KEY)) },
    profiles,
    groups,
    streamItems,
    deadLetters,
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The backup agent's environment against a pipeline of `startPipeline` (`label` names its scratch directories). */
export function pipelineOpsEnv(pipeline: Pipeline, label: string): NodeJS.ProcessEnv {
  return {
    REDIS_URL: pipeline.redis.url,
    INFLUX_URL: pipeline.influx.url,
    INFLUX_DB: pipeline.database,
    INFLUX_BACKUP_ADDR: pipeline.influx.backupAddr,
    BACKUP_TARGET: `file://${scratchDir(`${label}-backups`)}/store`,
    BACKUP_WORK_DIR: scratchDir(`${label}-work`),
    MIXSTACK_STACK: `${label}-test`,
    LOG_LEVEL: "warn",
  };
}

/** Runs `npx mixstack <args>` as its own process, as an operator or a container would. */
export function runMixstack(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, "bin", "mixstack.cjs"), ...args], { env: { ...process.env, ...env }, cwd: repoRoot, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? Number((error as { code?: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface OpsPipeline {
  pipeline: Pipeline;
  client: InfluxClient;
  redis: Redis;
  /** The backup agent's environment for this pipeline (a `file://` store in a temporary directory). */
  env: NodeJS.ProcessEnv;
  storeDir: string;
  /** Sends a batch as mixpanel-browser does (base64 form body, `ip=0`, `verbose=1`); throws unless accepted. */
  post(path: string, batch: unknown[]): Promise<void>;
}

/** The real pipeline (ingest, worker, influxd, redis-server) with what `mixstack backup`/`restore`/`forget` need. */
export async function startOpsPipeline(label: string): Promise<OpsPipeline> {
  // Weeks of history go through /track here (one route for every test): its 5-day limit is off.
  const pipeline = await startPipeline({ dir: scratchDir(label), onStarted: track, ingestEnv: { MIXSTACK_TRACK_MAX_AGE_DAYS: "0" } });
  const redis = createRedis(pipeline.redis.url);
  redis.on("error", () => undefined);
  await redis.connect();
  afterAll(async () => {
    if (redis.isOpen) await redis.close();
  });
  const env = pipelineOpsEnv(pipeline, label);
  const storeDir = env.BACKUP_TARGET!.slice("file://".length);
  const post = async (path: string, batch: unknown[]) => {
    const response = await fetch(`${pipeline.ingestUrl}${path}?ip=0&verbose=1`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `data=${encodeURIComponent(Buffer.from(JSON.stringify(batch)).toString("base64"))}`,
    });
    const body = await response.text();
    if (!response.ok || !body.includes('"status":1')) throw new Error(`${path}: ${response.status} ${body}`);
  };
  return { pipeline, client: influxClient(pipeline.influx), redis, env, storeDir, post };
}
