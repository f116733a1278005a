import { describe, expect, it, beforeAll } from "vitest";
import { redisKeys } from "../../services/core/queue";
import { runBackup } from "../../services/ops/backup";
import { restoreBackup } from "../../services/ops/restore";
import { FIRST_SEEN_KEY, opsKeys } from "../../services/ops/redis-state";
import { DB, countEvents, runMixstack, seedRedisState, snapshotRedisState, startOpsStack, writeEvents, type OpsStack } from "./fixtures";

/**
 * The restore promise end to end against real influxd and redis-server: back up to file://, lose
 * everything, restore, restore again, restore while writes continue.
 */

const N = 3_000;
let stack: OpsStack;
let before: Awaited<ReturnType<typeof snapshotRedisState>>;

describe("backup and restore against real influxd and redis-server", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    await writeEvents(stack.client, N);
    await seedRedisState(stack.redis);
    before = await snapshotRedisState(stack.redis);
  });

  it("`mixstack backup` writes a manifest whose counts equal the live data", async () => {
    const result = await runMixstack(["backup", "--json"], stack.env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { manifest } = JSON.parse(result.stdout);
    expect(manifest.influx.counts).toEqual([{ rp: "autogen", measurement: "events", points: N }]);
    expect(manifest.redis.counts).toEqual({ identities: 20, firstSeen: 20, profiles: 20, groups: 1, deadLetters: 1, streamEntries: 2 });
    expect(manifest.versions).toMatchObject({ influxdb: expect.stringMatching(/^1\.\d+\.\d+/), influxd: expect.stringMatching(/^1\.\d+\.\d+/) });
    expect(manifest.files.map((file: { path: string }) => file.path)).toContain("redis-state.ndjson.gz");
    expect(manifest.files.every((file: { sha256: string }) => /^[0-9a-f]{64}$/.test(file.sha256))).toBe(true);
    const list = await runMixstack(["backups", "list", "--json"], stack.env);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: manifest.id, complete: true }]);
  });

  it("after dropping the database and flushing Redis, `restore --from latest` brings back N points, equal profiles and identity map", async () => {
    await stack.client.query(`DROP DATABASE ${DB}`);
    await stack.redis.flushAll();
    const result = await runMixstack(["restore", "--from", "latest", "--json"], stack.env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.mode).toBe("whole");
    expect(report.created).toEqual([`database ${DB} (restored whole: it did not exist)`]);
    expect(report.counts).toEqual([{ rp: "autogen", measurement: "events", backup: N, liveAfter: N }]);
    expect(await countEvents(stack.client)).toBe(N);
    const after = await snapshotRedisState(stack.redis);
    expect(after.identities).toEqual(before.identities);
    expect(after.firstSeen).toEqual(before.firstSeen);
    expect(after.profiles).toEqual(before.profiles);
    expect(after.groups).toEqual(before.groups);
    expect(after.deadLetters).toEqual(before.deadLetters);
    // Queued entries come back (with new ids) for the worker, in their original order.
    expect(after.streamItems).toEqual(before.streamItems);
    expect(report.redis.sameLineage).toBe(false);
    const groups = await stack.redis.xInfoGroups(redisKeys.stream);
    expect(groups.map((group) => group.name)).toEqual([redisKeys.consumerGroup]);
  });

  it("restoring the same backup again still leaves N points and queues nothing twice", async () => {
    const streamBefore = await stack.redis.xLen(redisKeys.stream);
    const report = await restoreBackup(stack.context(), "latest");
    expect(report.mode).toBe("merge");
    expect(report.counts).toEqual([{ rp: "autogen", measurement: "events", backup: N, liveAfter: N }]);
    expect(await countEvents(stack.client)).toBe(N);
    expect(await stack.redis.xLen(redisKeys.stream)).toBe(streamBefore);
    expect(report.redis.identities).toEqual({ added: 0, kept: 20 });
    expect(report.redis.profiles.propertiesAdded).toBe(0);
    expect(report.redis.streamEntries.requeued).toBe(0);
    expect(await snapshotRedisState(stack.redis)).toMatchObject({ identities: before.identities, profiles: before.profiles });
  });

  it("a merge into the live database brings deleted points back with tags as tags and every field with its type (SELECT INTO … GROUP BY *)", async () => {
    await stack.client.query(`DELETE FROM "events" WHERE time < '2026-10-01T00:00:10Z'`, { db: DB });
    expect(await countEvents(stack.client)).toBe(N - 10);
    const report = await restoreBackup(stack.context(), "latest");
    expect(report.mode).toBe("merge");
    expect(await countEvents(stack.client)).toBe(N);
    const tags = await stack.client.rows(`SHOW TAG KEYS ON ${DB} FROM "events"`);
    expect(tags.map((row) => row.tagKey).sort()).toEqual(["event", "mp_lib"]);
    // Field types survive the merge (an integer rewritten as a float would be refused by the live shard).
    const fields = await stack.client.rows(`SHOW FIELD KEYS ON ${DB} FROM "events"`);
    expect(fields.map((row) => [row.fieldKey, row.fieldType]).sort()).toEqual([
      ["distinct_id", "string"],
      ["first", "boolean"],
      ["insert_id", "string"],
      ["price", "float"],
      ["quantity", "integer"],
    ]);
    const rows = await stack.client.rows(`SELECT * FROM "events" WHERE "insert_id" = 'e-7' OR "insert_id" = 'e-8'`, { db: DB, epoch: "ms" });
    expect(rows).toEqual([
      { time: Date.UTC(2026, 9, 1) + 7000, distinct_id: "user-7", event: "Viewed Page", first: false, insert_id: "e-7", mp_lib: "web", price: 0.5, quantity: 2 },
      { time: Date.UTC(2026, 9, 1) + 8000, distinct_id: "user-8", event: "Purchased", first: true, insert_id: "e-8", mp_lib: "node", price: 1.5, quantity: 3 },
    ]);
  });

  it("a live profile value newer than the backup is kept, a property missing live comes back, the earlier first-seen day wins", async () => {
    await stack.redis.hSet(redisKeys.profile("user-3"), "plan", JSON.stringify("enterprise"));
    await stack.redis.hDel(redisKeys.profile("user-3"), "logins");
    await stack.redis.hSet(redisKeys.identityMap, "device-3", "someone-else");
    await stack.redis.hSet(FIRST_SEEN_KEY, { "user-3": "2026-09-01", "user-4": "2026-12-01" });
    await restoreBackup(stack.context(), "latest");
    // The earlier first-seen day wins, whichever side has it.
    expect(await stack.redis.hGet(FIRST_SEEN_KEY, "user-3")).toBe("2026-09-01");
    expect(await stack.redis.hGet(FIRST_SEEN_KEY, "user-4")).toBe(before.firstSeen["user-4"]);
    expect(await stack.redis.hGetAll(redisKeys.profile("user-3"))).toEqual({ ...before.profiles["user-3"], plan: JSON.stringify("enterprise") });
    expect(await stack.redis.hGet(redisKeys.identityMap, "device-3")).toBe("someone-else");
  });

  it("restoring into the Redis the backup came from re-queues nothing (entries gone since were written)", async () => {
    const fresh = await startOpsStack();
    await writeEvents(fresh.client, 10);
    await seedRedisState(fresh.redis, 2);
    await runBackup(fresh.context());
    // The worker writes and deletes the queued entries after the backup.
    await fresh.redis.del(redisKeys.stream);
    const report = await restoreBackup(fresh.context(), "latest");
    expect(report.redis.sameLineage).toBe(true);
    expect(report.redis.streamEntries).toEqual({ requeued: 0, skipped: 2 });
    expect(await fresh.redis.exists(redisKeys.stream)).toBe(0);
    expect(await fresh.redis.get(opsKeys.lineage)).toBeTruthy();
  });

  it("a restore while events keep flowing into InfluxDB and the queue brings lost data back and loses none of the new", async () => {
    // Something to restore: points and a profile lost since the backup.
    await stack.client.query(`DELETE FROM "events" WHERE time < '2026-10-01T00:00:20Z'`, { db: DB });
    await stack.redis.del(redisKeys.profile("user-5"));
    expect(await countEvents(stack.client)).toBe(N - 20);
    let written = 0;
    let queued = 0;
    let stop = false;
    const writer = (async () => {
      // New events keep arriving for as long as the restore runs, each batch awaited before the next.
      while (!stop) {
        await writeEvents(stack.client, 50, { prefix: `live-${written}`, startMs: Date.UTC(2026, 10, 1) + written * 1000, batch: 50 });
        written += 50;
        await stack.redis.xAdd(redisKeys.stream, "*", { v: "1", kind: "track", received: String(Date.now()), items: "[]" });
        queued += 1;
      }
    })();
    const streamBefore = await stack.redis.xLen(redisKeys.stream);
    const writtenBefore = written;
    const report = await restoreBackup(stack.context(), "latest");
    const writtenDuring = written - writtenBefore;
    stop = true;
    await writer;
    expect(writtenDuring).toBeGreaterThan(0);
    expect(report.counts[0]!.backup).toBe(N);
    const live = await stack.client.rows(`SELECT count("insert_id") FROM "events" WHERE time >= '2026-11-01T00:00:00Z'`, { db: DB });
    expect(Number(live[0]?.count)).toBe(written);
    expect(await countEvents(stack.client)).toBe(N + written);
    expect(report.pointsWritten).toBe(N);
    expect(await stack.redis.hGetAll(redisKeys.profile("user-5"))).toEqual(before.profiles["user-5"]);
    expect(await stack.redis.xLen(redisKeys.stream)).toBe(streamBefore + queued);
  });
});
