import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import { hashOffset } from "../../services/core/line-protocol";
import { encodeEntry, redisKeys } from "../../services/core/queue";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { restoreAsNewDatabase, waitForDatabaseReadable } from "../../services/ops/influx-archive";
import { LOCK_KEY } from "../../services/ops/lock";
import { FIRST_SEEN_KEY, type Redis } from "../../services/ops/redis-state";
import { runMixstack, startOpsPipeline } from "./fixtures";

/**
 * `mixstack forget` and `export-person` end to end, with real processes: people sent through ingest
 * the way mixpanel-browser does (anonymous device events, an identify that merges the device, a
 * second device, server-side events, profile updates), written by the worker over several weekly
 * shards, dead letters of theirs (alone and mixed with somebody else's), a backup taken before the
 * erasure. Every check is brute force over everything InfluxDB and Redis hold, against what the test
 * itself sent, never against what forget reports.
 */

const DAY = 86_400_000;
const PAT = { user: "zq7pat-user", phone: "zq7pat-phone", laptop: "zq7pat-laptop", marker: "zq7pat" };
const KIM = { user: "zq7kim-user", device: "zq7kim-device", marker: "zq7kim" };
const OTHERS = 8;

interface SentEvent {
  event: string;
  properties: Record<string, unknown>;
}

let pipeline: Pipeline;
let client: InfluxClient;
let redis: Redis;
let env: NodeJS.ProcessEnv;
let storeDir: string;
let firstBackup: string;
const sent: SentEvent[] = [];
let clock = 0;
let othersRedisBefore: Awaited<ReturnType<typeof redisWithout>>;
let othersProfileUpdatesBefore: string[];

let post: (path: string, batch: unknown[]) => Promise<void>;

/**
 * One event per call, each in its own millisecond (so "exactly N" holds by construction), `day` days
 * after a start 40 days ago; every third one on a whole second (SDKs that send seconds).
 */
function event(name: string, day: number, properties: Record<string, unknown>): SentEvent {
  clock += 1;
  const whole = clock % 3 === 0;
  const second = Math.floor((Date.now() - 40 * DAY) / 1000) * 1000 + day * DAY + clock * 1000;
  // A millisecond equal to the insert id's spread is stored as its whole second would be (docs/privacy.md): avoided here.
  const spreadMs = Math.floor(hashOffset(`ins-${clock}`, 1_000_000_000) / 1_000_000);
  const time = second + (whole ? 0 : spreadMs === 137 ? 138 : 137);
  const sentEvent = { event: name, properties: { token: pipeline.token, time, $insert_id: `ins-${clock}`, mp_lib: "web", ...properties } };
  sent.push(sentEvent);
  return sentEvent;
}

/** Pat: anonymous on the phone over five weeks, identified, a second device, server-side events. */
function patEvents(): SentEvent[] {
  const events: SentEvent[] = [];
  for (let i = 0; i < 12; i += 1) {
    events.push(event("Viewed Page", i * 3, { distinct_id: `$device:${PAT.phone}`, $device_id: PAT.phone, note: `zq7pat-note-${i}`, n: i, first: i === 0, tags: ["a", i] }));
  }
  events.push(event("$identify", 36, { distinct_id: PAT.user, $device_id: PAT.phone, $user_id: PAT.user }));
  for (let i = 0; i < 8; i += 1) events.push(event("Clicked", 2 + i * 4, { distinct_id: PAT.user, $device_id: PAT.laptop, $user_id: PAT.user, n: 100 + i }));
  for (let i = 0; i < 6; i += 1) events.push(event("Purchased", 5 + i * 5, { distinct_id: PAT.user, amount: 9.5 + i }));
  return events;
}

function otherEvents(k: number): SentEvent[] {
  const user = `user-${k}`;
  const device = `device-${k}`;
  const events: SentEvent[] = [];
  for (let i = 0; i < 4; i += 1) events.push(event("Viewed Page", i * 7 + k, { distinct_id: `$device:${device}`, $device_id: device, n: i }));
  for (let i = 0; i < 10; i += 1) events.push(event("Clicked", 1 + i * 3, { distinct_id: user, $device_id: device, $user_id: user, n: i }));
  return events;
}

const isOf = (marker: string) => (sentEvent: SentEvent) => JSON.stringify(sentEvent).includes(marker);

async function drained(): Promise<void> {
  await waitFor("the queue empty", async () => (await redis.xLen(redisKeys.stream)) === 0, { timeoutMs: 90_000, intervalMs: 200 });
}

/** Every point of every measurement and every series key, as text, for brute-force searches. */
async function everythingInInflux(): Promise<string[]> {
  const db = pipeline.database;
  const texts: string[] = [];
  for (const row of await client.rows("SHOW MEASUREMENTS", { db })) {
    for (const point of await client.rows(`SELECT * FROM "${String(row.name)}"`, { db })) texts.push(JSON.stringify(point));
  }
  for (const row of await client.rows("SHOW SERIES", { db })) texts.push(String(row.key));
  return texts;
}

/** Every Redis key with its whole content, as text. */
async function everythingInRedis(): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for await (const keys of redis.scanIterator({ COUNT: 500 })) {
    for (const key of keys) {
      const type = await redis.type(key);
      let content: unknown;
      if (type === "hash") content = await redis.hGetAll(key);
      else if (type === "set") content = (await redis.sMembers(key)).sort();
      else if (type === "stream") content = ((await redis.xRange(key, "-", "+")) ?? []).map((entry) => entry?.message);
      else if (type === "string") content = await redis.get(key);
      else content = type;
      all.set(key, JSON.stringify(content));
    }
  }
  return all;
}

/** Where a marker still appears: InfluxDB, Redis keys and values, and the erasure ledger's files. */
async function whereIs(marker: string): Promise<string[]> {
  const places = (await everythingInInflux()).filter((text) => text.includes(marker)).map((text) => `influx: ${text.slice(0, 160)}`);
  for (const [key, content] of await everythingInRedis()) if (key.includes(marker) || content.includes(marker)) places.push(`redis ${key}: ${content.slice(0, 160)}`);
  const ledger = join(storeDir, "erasures");
  for (const file of existsSync(ledger) ? readdirSync(ledger, { withFileTypes: true }).filter((entry) => entry.isFile()) : []) {
    if (readFileSync(join(ledger, file.name), "utf8").includes(marker)) places.push(`ledger ${file.name}`);
  }
  return places;
}

/** Redis state of everybody but the erased, comparable before and after. */
async function redisWithout(markers: string[]) {
  const keep = (text: string) => !markers.some((marker) => text.includes(marker));
  const pick = (hash: Record<string, string>) => Object.fromEntries(Object.entries(hash).filter(([field, value]) => keep(field) && keep(value)));
  const profiles: Record<string, Record<string, string>> = {};
  for (const id of (await redis.sMembers(redisKeys.profileIndex)).filter(keep).sort()) profiles[id] = { ...(await redis.hGetAll(redisKeys.profile(id))) };
  // The worker's $last_seen is the update's time: equal before and after.
  return { identities: pick({ ...(await redis.hGetAll(redisKeys.identityMap)) }), firstSeen: pick({ ...(await redis.hGetAll(FIRST_SEEN_KEY)) }), profiles };
}

async function deadLetterItems(): Promise<string[]> {
  return ((await redis.xRange(redisKeys.deadLetters, "-", "+")) ?? []).map((entry) => entry?.message.items ?? "");
}

/** The stored events of everybody not erased: their insert ids, brute force against what was sent. */
async function othersAreExact(erased: string[]): Promise<void> {
  const rows = await client.rows('SELECT "insert_id", "distinct_id" FROM "events"', { db: pipeline.database });
  const stored = rows.map((row) => String(row.insert_id)).sort();
  const expected = sent.filter((e) => !erased.some((marker) => isOf(marker)(e))).map((e) => String(e.properties.$insert_id)).sort();
  expect(stored).toEqual(expected);
  const merges = await client.rows('SELECT "device_id", "user_id" FROM "identity_merges"', { db: pipeline.database });
  const expectedMerges = Array.from({ length: OTHERS }, (_, k) => `device-${k}→user-${k}`);
  if (!erased.includes(KIM.marker)) expectedMerges.push(`${KIM.device}→${KIM.user}`);
  expect(merges.map((row) => `${row.device_id}→${row.user_id}`).sort()).toEqual(expectedMerges.sort());
  expect(await profileUpdatesOfOthers()).toEqual(othersProfileUpdatesBefore);
  expect(await redisWithout([PAT.marker, KIM.marker])).toEqual(othersRedisBefore);
}

async function profileUpdatesOfOthers(): Promise<string[]> {
  const rows = await client.rows('SELECT * FROM "profile_updates"', { db: pipeline.database });
  return rows.map((row) => JSON.stringify(row)).filter((text) => !text.includes(PAT.marker) && !text.includes(KIM.marker)).sort();
}

describe("forget and export-person through ingest, the worker, backup and restore", () => {
  beforeAll(async () => {
    ({ pipeline, client, redis, env, storeDir, post } = await startOpsPipeline("forget"));
    const batches: SentEvent[][] = [patEvents()];
    for (let k = 0; k < OTHERS; k += 1) batches.push(otherEvents(k));
    batches.push(Array.from({ length: 5 }, (_, i) => event("Viewed Page", 10 + i * 6, { distinct_id: KIM.user, $device_id: KIM.device, $user_id: KIM.user, n: i })));
    for (const batch of batches) await post("/track", batch);
    await post("/engage", [
      { $token: pipeline.token, $distinct_id: PAT.user, $set: { $name: "Pat zq7pat", $email: "zq7pat@example.org", plan: "pro" } },
      { $token: pipeline.token, $distinct_id: PAT.user, $add: { logins: 3 } },
      { $token: pipeline.token, $distinct_id: KIM.user, $set: { $name: "Kim zq7kim" } },
      ...Array.from({ length: OTHERS }, (_, k) => ({ $token: pipeline.token, $distinct_id: `user-${k}`, $set: { plan: k % 2 ? "pro" : "free", $name: `User ${k}` } })),
    ]);
    // Dead letters, as the worker makes them: a malformed entry naming Pat, invalid items (no insert id)
    // of Pat and user-1 in one entry, and one of user-2 alone.
    const received = Date.now();
    await redis.xAdd(redisKeys.stream, "*", { v: "1", kind: "track", received: String(received), items: `not json: ${PAT.user}` });
    const invalid = (distinctId: string) => ({ event: "Broken", time: received, distinctId, properties: { $device_id: `${distinctId}-dev` } });
    await redis.xAdd(redisKeys.stream, "*", encodeEntry({ kind: "track", received, items: [invalid(PAT.user), invalid("user-1")] as never }));
    await redis.xAdd(redisKeys.stream, "*", encodeEntry({ kind: "track", received, items: [invalid("user-2")] as never }));
    await drained();
    await waitFor("profiles applied and dead letters made", async () => (await redis.sCard(redisKeys.profileIndex)) === OTHERS + 2 && (await redis.xLen(redisKeys.deadLetters)) === 3, {
      timeoutMs: 60_000,
    });
    othersRedisBefore = await redisWithout([PAT.marker, KIM.marker]);
    othersProfileUpdatesBefore = await profileUpdatesOfOthers();
    const backup = await runMixstack(["backup", "--json"], env);
    expect(backup.stderr).toBe("");
    firstBackup = JSON.parse(backup.stdout).manifest.id;
  });

  it("holds Pat in several shards, merged devices, a profile and dead letters before anything is erased", async () => {
    const shards = (await client.rows("SHOW SHARDS")).filter((row) => row.database === pipeline.database);
    const withPat = [];
    for (const shard of shards) {
      const [row] = await client.rows(
        `SELECT count("insert_id") FROM "events" WHERE ("distinct_id" = '${PAT.user}' OR "$device_id" = '${PAT.phone}') AND time >= '${shard.start_time}' AND time < '${shard.end_time}'`,
        { db: pipeline.database },
      );
      if (Number(row?.count ?? 0) > 0) withPat.push(shard.id);
    }
    expect(withPat.length).toBeGreaterThanOrEqual(4);
    expect(await redis.hGetAll(redisKeys.identityMap)).toMatchObject({ [PAT.phone]: PAT.user, [PAT.laptop]: PAT.user });
    expect((await deadLetterItems()).filter((items) => items.includes(PAT.marker))).toHaveLength(2);
    expect((await whereIs(PAT.marker)).length).toBeGreaterThan(20);
  });

  it("export-person returns exactly what was sent for Pat, found from the user id or from a device", async () => {
    const patSent = sent.filter(isOf(PAT.marker)).filter((e) => e.event !== "Broken");
    // What ingest stores of an event: everything but the token; lists and objects as their JSON text.
    const expected = patSent
      .map((e) => {
        const { token: _token, ...properties } = e.properties;
        for (const [key, value] of Object.entries(properties)) if (typeof value === "object" && value !== null) properties[key] = JSON.stringify(value);
        return { event: e.event, properties };
      })
      .sort((a, b) => String(a.properties.$insert_id).localeCompare(String(b.properties.$insert_id)));
    for (const named of [PAT.user, `$device:${PAT.phone}`, PAT.laptop]) {
      const result = await runMixstack(["export-person", named], env);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const exported = JSON.parse(result.stdout);
      const events = (exported.events as { event: string; properties: Record<string, unknown> }[])
        .map(({ event, properties }) => ({ event, properties }))
        .sort((a, b) => String(a.properties.$insert_id).localeCompare(String(b.properties.$insert_id)));
      expect(events).toEqual(expected);
      expect(exported.identity).toEqual({ users: [PAT.user], devices: [PAT.laptop, PAT.phone], deviceToUser: { [PAT.laptop]: PAT.user, [PAT.phone]: PAT.user } });
      const { $last_seen, ...profile } = exported.profiles[PAT.user];
      expect(profile).toEqual({ $name: "Pat zq7pat", $email: "zq7pat@example.org", plan: "pro", logins: 3 });
      expect($last_seen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(exported.identityMerges.map((merge: { device_id: string; user_id: string }) => `${merge.device_id}→${merge.user_id}`).sort()).toEqual([
        `${PAT.laptop}→${PAT.user}`,
        `${PAT.phone}→${PAT.user}`,
      ]);
      expect(exported.profileUpdates.map((update: { op: string; distinct_id: string }) => `${update.op} ${update.distinct_id}`).sort()).toEqual([`$add ${PAT.user}`, `$set ${PAT.user}`]);
      const letters = exported.deadLetters.flatMap((letter: { items: unknown[] }) => letter.items);
      expect(letters).toEqual(expect.arrayContaining([`not json: ${PAT.user}`, expect.objectContaining({ distinctId: PAT.user })]));
      expect(letters).toHaveLength(2);
      expect(JSON.stringify(exported)).not.toContain("user-1");
      expect(exported.queued).toEqual([]);
    }
  });

  it("forget --dry-run counts what would go and changes nothing", async () => {
    const before = await whereIs(PAT.marker);
    const result = await runMixstack(["forget", PAT.user, "--dry-run", "--json"], env);
    expect(result.code).toBe(0);
    const preview = JSON.parse(result.stdout);
    expect(preview.points.events).toBe(sent.filter(isOf(PAT.marker)).filter((e) => e.event !== "Broken").length);
    expect(preview.deadLetters).toBe(2);
    expect(await whereIs(PAT.marker)).toEqual(before);
  });

  it("forget erases Pat from every measurement and Redis key, keeps everybody else's data exactly, and records no id", async () => {
    const result = await runMixstack(["forget", PAT.user, "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.users).toBe(1);
    expect(report.devices).toBe(2);
    expect(report.backups.older).toEqual([firstBackup]);
    expect(report.backups.agedOutBy).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(await whereIs(PAT.marker)).toEqual([]);
    await othersAreExact([PAT.marker]);
    // The dead letter shared with user-1 keeps user-1's item; user-2's is untouched.
    const letters = (await deadLetterItems()).map((items) => JSON.parse(items).map((item: { distinctId: string }) => item.distinctId));
    expect(letters.sort()).toEqual([["user-1"], ["user-2"]]);
    // Kim is still there.
    expect((await whereIs(KIM.marker)).length).toBeGreaterThan(5);
    // The ledger beside the backups is not a backup: listing (and so retention) leaves it alone.
    const listed = await runMixstack(["backups", "list", "--json"], env);
    expect(JSON.parse(listed.stdout).map((entry: { id: string }) => entry.id)).toEqual([firstBackup]);
    expect(readdirSync(join(storeDir, "erasures")).sort()).toEqual([`${report.erasure}.json`, "ledger-key"]);
  });

  it("forget waits for events of theirs still queued (the worker down), then erases them too", async () => {
    const worker = pipeline.workers[0]!;
    await worker.stop();
    const queued = event("Late", 39, { distinct_id: KIM.user, $device_id: KIM.device, $user_id: KIM.user });
    await post("/track", [queued]);
    expect(await redis.xLen(redisKeys.stream)).toBeGreaterThanOrEqual(1);
    const forgetting = runMixstack(["forget", KIM.user, "--json", "--drain-timeout", "90"], env);
    await waitFor("forget holding the ops lock", async () => (await redis.exists(LOCK_KEY)) === 1, { timeoutMs: 30_000, intervalMs: 50 });
    await worker.start();
    const result = await forgetting;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.queuedEntries).toBe(1);
    await drained();
    expect(await whereIs(KIM.marker)).toEqual([]);
    await othersAreExact([PAT.marker, KIM.marker]);
  });

  it("a restore of the backup taken before the erasures, merged into the live system, leaves both erased", async () => {
    const result = await runMixstack(["restore", "--from", firstBackup, "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.erasures.erasures).toBe(2);
    expect(report.counts.find((count: { measurement: string }) => count.measurement === "events").erased).toBe(sent.filter((e) => (isOf(PAT.marker)(e) || isOf(KIM.marker)(e)) && e.event !== "Broken" && e.event !== "Late").length);
    expect(await whereIs(PAT.marker)).toEqual([]);
    expect(await whereIs(KIM.marker)).toEqual([]);
    await othersAreExact([PAT.marker, KIM.marker]);
  });

  it("a restore of that backup after losing InfluxDB's database and all of Redis leaves them erased and brings everybody else back", async () => {
    await client.query(`DROP DATABASE "${pipeline.database}"`);
    await redis.flushAll();
    const result = await runMixstack(["restore", "--from", firstBackup, "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await drained();
    expect(await whereIs(PAT.marker)).toEqual([]);
    expect(await whereIs(KIM.marker)).toEqual([]);
    await othersAreExact([PAT.marker, KIM.marker]);
    const letters = (await deadLetterItems()).map((items) => JSON.parse(items).map((item: { distinctId: string }) => item.distinctId));
    expect(letters.sort()).toEqual([["user-1"], ["user-2"]]);
  });

  it("forget --reapply erases them again from data that came back without mixstack restore (a disk snapshot)", async () => {
    // InfluxDB's own restore of the old archive, and Redis keys put back by hand: no re-application.
    await client.query(`DROP DATABASE "${pipeline.database}"`);
    await restoreAsNewDatabase({ binary: "influxd", host: pipeline.influx.backupAddr }, pipeline.database, pipeline.database, join(storeDir, firstBackup, "influx"), () => undefined);
    await waitForDatabaseReadable(client, pipeline.database);
    await redis.hSet(redisKeys.identityMap, PAT.phone, PAT.user);
    await redis.hSet(redisKeys.profile(PAT.user), { $name: JSON.stringify("Pat zq7pat") });
    await redis.sAdd(redisKeys.profileIndex, PAT.user);
    expect((await whereIs(PAT.marker)).length).toBeGreaterThan(20);
    expect((await whereIs(KIM.marker)).length).toBeGreaterThan(4);
    const result = await runMixstack(["forget", "--reapply", "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).erasures).toBe(2);
    expect(await whereIs(PAT.marker)).toEqual([]);
    expect(await whereIs(KIM.marker)).toEqual([]);
    await othersAreExact([PAT.marker, KIM.marker]);
  });
});
