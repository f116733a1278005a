/**
 * Time to forget one person in a store of N events (default 3,000,000), beside a baseline measured
 * in the same run on the same data: one full scan of the store's `distinct_id` (the least any search
 * by a field costs in InfluxDB 1.x, which cannot index fields). Also: forgetting the heaviest user
 * of the data set (thousands of points: the cost of DELETE by series and time per point), and what a
 * shard rewrite would cost instead (copying one shard out with SELECT … INTO; a rewrite copies out
 * and back every shard the person is in). Not part of `npm test`.
 *
 *   npx tsx bench/forget.ts [--events 3000000] [--person-events 300]
 *
 * The store is measured in its steady state: the two months of history written to TSM files (influxd
 * snapshots a shard's cache once it has had no write for `cache-snapshot-write-cold-duration`, 10 min
 * by default; 10 s here so that the bench need not wait), plus a hot shard of today's events still
 * in the cache, as a live stack has. Right after a bulk load, before those snapshots, every DELETE
 * walks all the caches and costs several times more.
 *
 * Starts its own influxd and redis-server on free loopback ports (stopped by PID at the end) and
 * writes the figures to bench/results/forget.json.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InfluxClient } from "../services/core/influx";
import { toLine } from "../services/core/line-protocol";
import { encodeEntry, redisKeys, type EventItem } from "../services/core/queue";
import { repoRoot } from "../services/dev/processes";
import { forget, type ForgetReport } from "../services/ops/forget";
import { waitFor } from "../services/dev/ports";
import { shards } from "../services/ops/influx-archive";
import { FIRST_SEEN_KEY, createRedis } from "../services/ops/redis-state";
import { FieldTypes } from "../services/worker/field-types";
import { toEventPoint, toMergePoint, toProfileUpdatePoint } from "../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../services/worker/settings";
import { startBenchStores, timed } from "./bench-stores";
import { loadBrowserEvents } from "./browser-events";

const { values } = parseArgs({
  options: { events: { type: "string", default: "3000000" }, "person-events": { type: "string", default: "300" }, "hot-events": { type: "string", default: "200000" } },
});
const EVENTS = Number(values.events);
/** Of EVENTS, the ones written in the last hour (the hot shard, still in InfluxDB's cache). */
const HOT_EVENTS = Math.min(EVENTS, Number(values["hot-events"]));
const PERSON_EVENTS = Number(values["person-events"]);
const DB = "mixevents";
const PERSON = { user: "bench-pat@example.org", devices: ["bench-pat-phone", "bench-pat-laptop"] };
const DAY = 86_400_000;
const START = Date.UTC(2026, 7, 1); // the data set's two months


async function count(client: InfluxClient, where = ""): Promise<number> {
  const rows = await client.rows(`SELECT count("insert_id") FROM "events"${where ? ` WHERE ${where}` : ""}`, { db: DB });
  return Number(rows[0]?.count ?? 0);
}

/** The person, as the worker would have stored them: two devices merged into a user, over two months. */
async function loadPerson(client: InfluxClient, redis: ReturnType<typeof createRedis>): Promise<void> {
  const types = new FieldTypes();
  const schema = { tagKeys: new Set(DEFAULT_EVENT_TAGS) };
  const lines: string[] = [];
  for (let i = 0; i < PERSON_EVENTS; i += 1) {
    const device = PERSON.devices[i % 2]!;
    const anonymous = i < PERSON_EVENTS / 4;
    const item: EventItem = {
      event: ["Page Viewed", "Clicked", "Purchased"][i % 3]!,
      time: START + Math.floor((i / PERSON_EVENTS) * 59 * DAY) + 17,
      insertId: `bench-pat-${i}`,
      distinctId: anonymous ? `$device:${device}` : PERSON.user,
      properties: { $device_id: device, ...(anonymous ? {} : { $user_id: PERSON.user }), mp_lib: "web", $os: "iOS", plan: "pro", amount: i },
    };
    lines.push(toLine(toEventPoint(item, anonymous ? item.distinctId : PERSON.user, schema, types).point) as string);
  }
  for (const [index, device] of PERSON.devices.entries()) {
    lines.push(toLine(toMergePoint(device, PERSON.user, START + index * DAY)) as string);
    await redis.hSet(redisKeys.identityMap, device, PERSON.user);
  }
  for (let i = 0; i < 10; i += 1) {
    lines.push(toLine(toProfileUpdatePoint({ kind: "user", op: "$set", id: PERSON.user, created: i === 0, time: START + i * 5 * DAY, key: `bench-pat-op-${i}` })) as string);
  }
  await client.write(lines.join("\n"), { db: DB });
  await redis.hSet(redisKeys.profile(PERSON.user), { $name: JSON.stringify("Pat"), $email: JSON.stringify(PERSON.user) });
  await redis.sAdd(redisKeys.profileIndex, PERSON.user);
  await redis.hSet(FIRST_SEEN_KEY, PERSON.user, "2026-08-01");
  await redis.xAdd(redisKeys.deadLetters, "*", { ...encodeEntry({ kind: "track", received: START, items: [{ event: "x", time: START, insertId: "", distinctId: PERSON.user, properties: {} }] }), reason: "insertId is missing", failed_at: String(START), deliveries: "1", entry_id: "1-0" });
}

/** Bytes under a directory (influxd's WAL: segments are deleted once their shard's cache is snapshotted). */
function bytesUnder(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    bytes += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return bytes;
}

/** Today's events (the last hour): the shard the worker is writing, its points still in the cache. */
async function loadHotEvents(client: InfluxClient): Promise<void> {
  const now = Date.now();
  for (let from = 0; from < HOT_EVENTS; from += 10_000) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(HOT_EVENTS, from + 10_000); i += 1) {
      const time = BigInt(now - 3_600_000 + Math.floor((i / HOT_EVENTS) * 3_500_000)) * 1_000_000n + BigInt(i % 1_000_000);
      lines.push(`events,event=Page\\ Viewed,mp_lib=web,$os=iOS distinct_id="today-${i % 20_000}",insert_id="hot-${i}",$device_id="hot-device-${i % 20_000}",amount=${i % 97} ${time}`);
    }
    await client.write(lines.join("\n"), { db: DB, gzip: true });
  }
}

async function main(): Promise<void> {
  // Cold shards are snapshotted to TSM files after 10 s without writes instead of 10 min (see above).
  process.env.INFLUXDB_DATA_CACHE_SNAPSHOT_WRITE_COLD_DURATION = "10s";
  const stores = await startBenchStores("forget", DB);
  const { root, client, redis, ctx } = stores;
  try {

    process.stderr.write(`loading ${EVENTS} events and a person with ${PERSON_EVENTS}...\n`);
    const [, loadSeconds] = await timed(async () => {
      await loadBrowserEvents(client, DB, EVENTS - HOT_EVENTS);
      await loadPerson(client, redis);
      // An identity map of the data set's size: forget reads all of it once (HSCAN).
      for (let from = 0; from < 50_000; from += 1000) {
        await Promise.all(Array.from({ length: 1000 }, (_, k) => redis.hSet(redisKeys.identityMap, `device-${from + k}`, `user-${from + k}`)));
      }
    });
    process.stderr.write("waiting for influxd to snapshot the cold shards...\n");
    const wal = join(root, "influxd", "wal");
    await waitFor("the WAL snapshotted", async () => bytesUnder(wal) < 1_000_000, { timeoutMs: 900_000, intervalMs: 2000 });
    await loadHotEvents(client);
    const total = await count(client);
    const shardCount = (await shards(client, DB)).length;

    // Baseline: every event's distinct_id read once (what any field search costs at least).
    const [, scanSeconds] = await timed(() => client.rows(`SELECT count("distinct_id") FROM "events"`, { db: DB }));

    const forgetOne = async (ids: string[]): Promise<[ForgetReport, number]> => timed(() => forget(ctx, { ids, backups: "age-out", drainTimeoutMs: 0 }));
    process.stderr.write("forget one person...\n");
    const [person, personSeconds] = await forgetOne([PERSON.user]);
    const personPoints = person.points.events ?? 0;
    if (personPoints !== PERSON_EVENTS) throw new Error(`forget deleted ${personPoints} events of the person, expected ${PERSON_EVENTS}`);
    const left = await count(client);
    if (left !== total - PERSON_EVENTS) throw new Error(`${left} events left, expected ${total - PERSON_EVENTS}`);

    // The heaviest user of the data set (the generator's user-0): the per-point cost of DELETE.
    const heavyBefore = await count(client, `"distinct_id" = 'user-0'`);
    process.stderr.write(`forget the heaviest user (${heavyBefore} events)...\n`);
    const [heavy, heavySeconds] = await forgetOne(["user-0"]);
    const heavyPoints = heavy.points.events ?? 0;
    if (heavyPoints !== heavyBefore || (await count(client)) !== left - heavyBefore) throw new Error(`heavy forget: deleted ${heavyPoints}, expected ${heavyBefore}`);

    // A shard rewrite instead: at least one copy out and one back of each shard the person is in.
    const [first] = (await shards(client, DB)).filter((shard) => shard.rp === "autogen");
    await client.query(`CREATE DATABASE "rewrite_copy"`);
    const [copied, copySeconds] = await timed(async () => {
      const [result] = await client.query(
        `SELECT * INTO "rewrite_copy"."autogen".:MEASUREMENT FROM "${DB}"."autogen"./.*/ WHERE time >= '${first!.start}' AND time < '${first!.end}' GROUP BY *`,
      );
      return Number(result?.series?.[0]?.values?.[0]?.[1] ?? 0);
    });
    await client.query(`DROP DATABASE "rewrite_copy"`);
    const rewriteSeconds = 2 * copySeconds * person.shardsScanned;

    const rows = [
      ["what", "seconds", "full scan (s)", "ratio", "notes"],
      ["forget one person", personSeconds.toFixed(1), scanSeconds.toFixed(1), (personSeconds / scanSeconds).toFixed(1), `${personPoints} events in ${person.shardsScanned} shards, 2 merges, 10 profile updates, profile, dead letter`],
      ["forget the heaviest user", heavySeconds.toFixed(1), scanSeconds.toFixed(1), (heavySeconds / scanSeconds).toFixed(1), `${heavyPoints} events: ${(((heavySeconds - personSeconds) / Math.max(1, heavyPoints - personPoints)) * 1000).toFixed(2)} ms per extra point`],
      ["shard rewrite instead (estimate)", rewriteSeconds.toFixed(1), scanSeconds.toFixed(1), (rewriteSeconds / scanSeconds).toFixed(1), `2 × ${copySeconds.toFixed(1)} s (SELECT INTO of one shard, ${copied} points) × ${person.shardsScanned} shards, lower bound`],
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    process.stdout.write(`\n${total} events in ${shardCount} shards (loaded in ${loadSeconds.toFixed(1)} s)\n`);
    process.stdout.write(`${rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ")).join("\n")}\n`);

    mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
    writeFileSync(
      join(repoRoot, "bench", "results", "forget.json"),
      `${JSON.stringify({ events: total, shards: shardCount, scanSeconds, personSeconds, personPoints, heavySeconds, heavyPoints, copySeconds, copied, rewriteSeconds, at: new Date().toISOString() }, null, 2)}\n`,
    );
  } finally {
    await stores.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench/forget: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
