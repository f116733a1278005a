import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import { encodeEntry, redisKeys, type EventItem, type ProfileUpdate } from "../../services/core/queue";
import type { Pipeline } from "../../services/dev/pipeline";
import { repoRoot } from "../../services/dev/processes";
import { waitFor } from "../../services/dev/ports";
import { planUpdates } from "../../services/worker/profile-ops";
import { applyProfileEntry } from "../../services/worker/profile-store";
import { createRedisConnection, type RedisConnection } from "../../services/worker/redis-connection";
import { countEvents, influxOf, startTestPipeline, waitForCount, waitForDrained } from "./support";

const run = promisify(execFile);

/** `mixstack dlq ...` as an operator runs it. */
async function dlq(pipeline: Pipeline, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(repoRoot, "bin", "mixstack.cjs"), "dlq", ...args], {
    env: { ...process.env, REDIS_URL: pipeline.redis.url, LOG_LEVEL: "warn" },
    timeout: 60_000,
  });
  return stdout;
}

describe("dead letters", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;
  let redis: RedisConnection;

  beforeAll(async () => {
    pipeline = await startTestPipeline({
      workers: 1,
      workerEnv: { WORKER_MAX_DELIVERIES: "2", WORKER_CLAIM_IDLE_MS: "1000", WORKER_CLAIM_INTERVAL_MS: "300" },
    });
    influx = influxOf(pipeline);
    redis = createRedisConnection(pipeline.redis.url);
    await redis.connect();
  });
  afterAll(async () => {
    await redis.close();
  });

  const xadd = async (fields: Record<string, string>) => String(await redis.sendCommand(["XADD", redisKeys.stream, "*", ...Object.entries(fields).flat()]));
  const letters = async () => JSON.parse(await dlq(pipeline, "list", "--json")) as Array<{ id: string; kind: string; items: number; reason: string; entryId: string; deliveries: number }>;
  const event = (insertId: string, overrides: Partial<EventItem> = {}): EventItem => ({
    event: "dlq-test",
    time: Date.now() - 1000,
    insertId,
    distinctId: "d",
    properties: { n: 1 },
    ...overrides,
  });

  it("a malformed entry goes to the dead letters with the reason, and the worker carries on", async () => {
    const id = await xadd({ v: "9", kind: "track", received: "1", items: "[]" });
    await xadd(encodeEntry({ kind: "track", items: [event("after-malformed")], received: Date.now() }));
    await waitForCount(() => countEvents(influx, pipeline.database, `"insert_id" = 'after-malformed'`), 1);
    await waitForDrained(pipeline);
    expect(await letters()).toMatchObject([{ entryId: id, kind: "track", reason: 'malformed entry: unsupported entry version "9"' }]);
    const table = await dlq(pipeline, "list");
    expect(table).toMatch(/^id\s+failed at\s+kind\s+items\s+deliveries\s+reason$/m);
    expect(table).toContain('malformed entry: unsupported entry version "9"');
  });

  it("invalid items of an entry are dead-lettered alone; the entry's other items are written", async () => {
    const id = await xadd(encodeEntry({ kind: "track", items: [event("good-1"), event("bad", { time: 0 }), event("good-2")], received: Date.now() }));
    await waitForCount(() => countEvents(influx, pipeline.database, `"insert_id" =~ /^good-/`), 2);
    await waitForDrained(pipeline);
    const letter = (await letters()).find((candidate) => candidate.entryId === id);
    expect(letter).toMatchObject({ items: 1, reason: "invalid items: item 1: time is not a positive integer of milliseconds" });
  });

  it("an entry delivered more than WORKER_MAX_DELIVERIES times goes to the dead letters; replaying it applies its profile operations once", async () => {
    // A worker applied the entry's profile operations and crashed before writing, several times over.
    await pipeline.workers[0]!.stop();
    const update: ProfileUpdate = { distinctId: "dlq-user", time: Date.now(), ignoreTime: true, ops: { $add: { n: 1 } } };
    const entryId = await xadd(encodeEntry({ kind: "engage", items: [update], received: Date.now() }));
    await redis.sendCommand(["XREADGROUP", "GROUP", redisKeys.consumerGroup, "crashing-worker", "COUNT", "10", "STREAMS", redisKeys.stream, ">"]);
    await applyProfileEntry(redis, "user", planUpdates("engage", [update], [0]), { entryId, markerId: entryId, ttlSeconds: 3600 });
    for (let delivery = 0; delivery < 2; delivery += 1) {
      await redis.sendCommand(["XREADGROUP", "GROUP", redisKeys.consumerGroup, "crashing-worker", "COUNT", "10", "STREAMS", redisKeys.stream, "0"]);
    }
    expect(await redis.sendCommand(["HGET", redisKeys.profile("dlq-user"), "n"])).toBe("1");

    await pipeline.workers[0]!.start(); // takes the idle entry over, sees its delivery count
    const letter = await waitFor("the dead letter", async () => (await letters()).find((candidate) => candidate.entryId === entryId), { timeoutMs: 30_000 });
    expect(letter.reason).toMatch(/^delivered [4-9] times without being written$/);
    await waitForDrained(pipeline);

    expect(await dlq(pipeline, "replay", letter.id)).toBe("replayed 1 dead letter\n");
    await waitFor(
      "the replayed entry's profile_updates point",
      async () => (await influx.rows(`SELECT count("distinct_id") FROM "profile_updates" WHERE "distinct_id" = 'dlq-user'`, { db: pipeline.database }))[0]?.count === 1,
      { timeoutMs: 30_000 },
    );
    await waitForDrained(pipeline);
    expect(await redis.sendCommand(["HGET", redisKeys.profile("dlq-user"), "n"])).toBe("1");
    expect((await letters()).find((candidate) => candidate.entryId === entryId)).toBeUndefined();
  });

  it("replay of a poison event entry writes its events", async () => {
    await pipeline.workers[0]!.stop();
    const entryId = await xadd(encodeEntry({ kind: "track", items: [event("replayed-1"), event("replayed-2")], received: Date.now() }));
    for (const start of [">", "0", "0"]) {
      await redis.sendCommand(["XREADGROUP", "GROUP", redisKeys.consumerGroup, "crashing-worker", "COUNT", "10", "STREAMS", redisKeys.stream, start]);
    }
    await pipeline.workers[0]!.start();
    await waitFor("the dead letter", async () => (await letters()).find((candidate) => candidate.entryId === entryId), { timeoutMs: 30_000 });
    expect(await countEvents(influx, pipeline.database, `"insert_id" =~ /^replayed-/`)).toBe(0);
    expect(await dlq(pipeline, "replay", "--all")).toMatch(/^replayed \d+ dead letters?\n$/);
    await waitForCount(() => countEvents(influx, pipeline.database, `"insert_id" =~ /^replayed-/`), 2);
  });

  it.each<[string, string[], string]>([
    ["replay without ids or --all", ["replay"], "--all"],
    ["an unknown action", ["purge"], "usage: mixstack dlq list"],
    ["an unknown option", ["list", "--bogus"], "Unknown option '--bogus'"],
    ["a replay id that is no stream id", ["replay", "1700000000000-0", "latest"], '"latest" is not a dead letter id'],
    ["a count that is no positive integer", ["list", "--count", "many"], "--count must be a positive integer"],
  ])("refuses %s with exit code 2 and a message saying why", async (_, args, message) => {
    await expect(dlq(pipeline, ...args)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
  });
});
