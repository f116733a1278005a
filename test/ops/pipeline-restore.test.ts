import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../../services/core/queue";
import { startPipeline, type Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { influxClient, scratchDir, track } from "../harness/services";
import { countEvents, pipelineOpsEnv, runMixstack, snapshotRedisState } from "./fixtures";
import { createRedis, type Redis } from "../../services/ops/redis-state";
import type { InfluxClient } from "../../services/core/influx";

/**
 * The restore promise through the real pipeline: events and profiles sent to ingest the way the
 * Mixpanel SDKs send them, written by the worker, backed up with `mixstack backup`, lost, and
 * brought back with `mixstack restore` while ingest and the worker keep running.
 */

const N = 600;
const USERS = 40;
let pipeline: Pipeline;
let client: InfluxClient;
let redis: Redis;
let env: NodeJS.ProcessEnv;
let before: Awaited<ReturnType<typeof snapshotRedisState>>;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");

async function post(path: string, batch: unknown[]): Promise<void> {
  const response = await fetch(`${pipeline.ingestUrl}${path}?ip=0&verbose=1`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: `data=${encodeURIComponent(b64(batch))}`,
  });
  const body = await response.text();
  if (!response.ok || !body.includes('"status":1')) throw new Error(`${path}: ${response.status} ${body}`);
}

/** `count` events in batches of 50 (as mixpanel-browser does), each user on their own device. */
async function sendEvents(from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 50) {
    const batch = [];
    for (let i = start; i < Math.min(from + count, start + 50); i += 1) {
      const user = i % USERS;
      batch.push({
        event: i % 2 ? "Viewed Page" : "Signed Up",
        properties: { token: pipeline.token, time: Date.now(), $insert_id: `pipe-${i}`, $device_id: `device-${user}`, $user_id: `user-${user}`, mp_lib: "web", n: i },
      });
    }
    await post("/track", batch);
  }
}

async function drained(expected: number): Promise<void> {
  await waitFor(`${expected} events written and the queue empty`, async () => (await countEvents(client, pipeline.database)) === expected && (await redis.xLen(redisKeys.stream)) === 0, {
    timeoutMs: 90_000,
    intervalMs: 200,
  });
}

describe("backup and restore through ingest and the worker", () => {
  afterAll(async () => {
    if (redis?.isOpen) await redis.close();
  });

  beforeAll(async () => {
    pipeline = await startPipeline({ dir: scratchDir("pipeline"), onStarted: track });
    client = influxClient(pipeline.influx);
    redis = createRedis(pipeline.redis.url);
    redis.on("error", () => undefined);
    await redis.connect();
    env = pipelineOpsEnv(pipeline, "pipeline");
    await sendEvents(0, N);
    await post(
      "/engage",
      Array.from({ length: USERS }, (_, user) => ({ $token: pipeline.token, $distinct_id: `user-${user}`, $set: { plan: user % 2 ? "pro" : "free", $name: `User ${user}` }, $add: { logins: user } })),
    );
    await drained(N);
    await waitFor("profiles applied", async () => (await redis.sCard(redisKeys.profileIndex)) === USERS, { timeoutMs: 60_000 });
    before = await snapshotRedisState(redis);
    expect(Object.keys(before.identities)).toHaveLength(USERS);
  });

  it("backs up, loses the database and Redis, and `restore --from latest` brings back N points, equal profiles and identity map", async () => {
    const backup = await runMixstack(["backup", "--json"], env);
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout).manifest.influx.counts).toContainEqual({ rp: "autogen", measurement: "events", points: N });
    await client.query(`DROP DATABASE "${pipeline.database}"`);
    await redis.flushAll();
    const restore = await runMixstack(["restore", "--from", "latest", "--json"], env);
    expect(restore.stderr).not.toMatch(/mixstack/);
    expect(restore.code).toBe(0);
    expect(await countEvents(client, pipeline.database)).toBe(N);
    const after = await snapshotRedisState(redis);
    expect(after.identities).toEqual(before.identities);
    expect(after.profiles).toEqual(before.profiles);
  });

  it("restoring again still leaves N points, equal profiles ($add not applied twice) and identity map", async () => {
    const restore = await runMixstack(["restore", "--from", "latest", "--json"], env);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout).mode).toBe("merge");
    expect(await countEvents(client, pipeline.database)).toBe(N);
    const after = await snapshotRedisState(redis);
    expect(after.profiles).toEqual(before.profiles);
    expect(after.identities).toEqual(before.identities);
  });

  it("a restore while events keep flowing through ingest and the worker brings the lost events back and loses none of the new", async () => {
    // Something to restore: every event point lost since the backup.
    await client.query(`DELETE FROM "events"`, { db: pipeline.database });
    expect(await countEvents(client, pipeline.database)).toBe(0);
    let sent = 0;
    let restoring = true;
    const sender = (async () => {
      // Batches keep arriving for as long as the restore runs (and at least one).
      do {
        await sendEvents(N + sent, 50);
        sent += 50;
      } while (restoring);
    })();
    const restore = await runMixstack(["restore", "--from", "latest"], env);
    const sentDuringRestore = sent;
    restoring = false;
    await sender;
    expect(restore.code).toBe(0);
    expect(sentDuringRestore).toBeGreaterThan(0);
    await drained(N + sent);
    expect(await countEvents(client, pipeline.database)).toBe(N + sent);
  });
});
