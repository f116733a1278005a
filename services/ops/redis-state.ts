import { randomUUID } from "node:crypto";
import { createRedisClient, type RedisConnection } from "../core/redis";
import { redisKeys } from "../core/queue";
import { compareStreamIds, countRecord, emptyStateCounts, type StateCounts, type StateRecord } from "./redis-state-format";

/**
 * Export and merge of the Redis-held state (identity map, profiles, groups, dead letters, stream
 * entries not yet written) with ordinary commands only.
 *
 * Merge rules (restore into a live system, safe to repeat):
 * - identity map: HSETNX, the live mapping wins (first user wins, as the worker does).
 * - first-seen days (`mx:first_seen`): the earlier day wins, live or backup.
 * - profiles and groups: property by property with HSETNX; a property present live is newer than
 *   the backup and is kept, a property only in the backup comes back. (So a property `$unset` or a
 *   profile `$delete`d after the backup comes back too: a restore restores.)
 * - stream entries and dead letters: if this Redis is the one the backup came from (same lineage),
 *   an entry no longer in the stream was written (or replayed) since: nothing is re-queued. Into
 *   another Redis (flushed, rebuilt) each entry is re-queued once, with a new id and `origin` = its
 *   first id (as `dlq replay` does, so the worker guards it with `mx:applied:<origin>`), remembered
 *   in `mx:ops:requeued` so that a second restore does not queue it again. Event points are
 *   idempotent; an entry whose `mx:applied:<origin>` marker exists is not re-queued.
 */

/**
 * A node-redis client (the type the rest of ops works with). A backup or restore is one run, not a
 * service: after a few quick retries an unreachable Redis is an error, never a hang.
 */
export function createRedis(url: string, retries = 3): Redis {
  return createRedisClient(url, { reconnect: { kind: "attempts", attempts: retries } });
}

export type Redis = RedisConnection<3>;

/** The worker's hash distinct id -> UTC day of the first event seen (docs/contracts.md). */
export const FIRST_SEEN_KEY = "mx:first_seen";

export const opsKeys = {
  /** A random id set once per Redis data set; a flushed or new Redis gets a new one. */
  lineage: "mx:ops:lineage",
  /** Hash `<stream>/<original id>` -> new id, for entries re-queued by a restore. */
  requeued: "mx:ops:requeued",
} as const;

/** The Redis data set's lineage id, created on first use. */
export async function ensureLineage(redis: Redis): Promise<string> {
  await redis.set(opsKeys.lineage, randomUUID(), { condition: "NX" });
  return (await redis.get(opsKeys.lineage))!;
}

const BATCH = 500;

async function* scanKeys(redis: Redis, match: string): AsyncGenerator<string[]> {
  for await (const keys of redis.scanIterator({ MATCH: match, COUNT: BATCH, TYPE: "hash" })) if (keys.length) yield keys;
}

async function* streamEntries(redis: Redis, key: string): AsyncGenerator<{ id: string; message: Record<string, string> }[]> {
  let start = "-";
  for (;;) {
    const reply = (await redis.xRange(key, start, "+", { COUNT: BATCH })) ?? [];
    const entries = reply.flatMap((entry) => (entry ? [{ id: entry.id, message: { ...entry.message } as Record<string, string> }] : []));
    if (entries.length === 0) return;
    yield entries;
    if (entries.length < BATCH) return;
    start = `(${entries[entries.length - 1]!.id}`;
  }
}

/** Streams every record of the state to `sink`; returns the lineage and the counts written. */
export async function exportRedisState(
  redis: Redis,
  sink: (record: StateRecord) => Promise<void> | void,
): Promise<{ lineage: string; counts: StateCounts }> {
  const lineage = await ensureLineage(redis);
  const counts = emptyStateCounts();
  const emit = async (record: StateRecord) => {
    countRecord(counts, record);
    await sink(record);
  };
  for await (const entries of redis.hScanIterator(redisKeys.identityMap, { COUNT: BATCH })) {
    for (const { field, value } of entries) await emit({ type: "identity", device: field, user: value });
  }
  for await (const entries of redis.hScanIterator(FIRST_SEEN_KEY, { COUNT: BATCH })) {
    for (const { field, value } of entries) await emit({ type: "firstSeen", id: field, day: value });
  }
  const profilePrefix = redisKeys.profile("");
  for await (const keys of scanKeys(redis, `${profilePrefix}*`)) {
    const hashes = await Promise.all(keys.map((key) => redis.hGetAll(key)));
    for (const [index, key] of keys.entries()) {
      const props = { ...hashes[index] } as Record<string, string>;
      if (Object.keys(props).length) await emit({ type: "profile", id: key.slice(profilePrefix.length), props });
    }
  }
  const groupPrefix = "mx:group:";
  for await (const keys of scanKeys(redis, `${groupPrefix}*`)) {
    const hashes = await Promise.all(keys.map((key) => redis.hGetAll(key)));
    for (const [index, key] of keys.entries()) {
      const props = { ...hashes[index] } as Record<string, string>;
      if (Object.keys(props).length) await emit({ type: "group", member: key.slice(groupPrefix.length), props });
    }
  }
  for await (const entries of streamEntries(redis, redisKeys.deadLetters)) {
    for (const entry of entries) await emit({ type: "deadLetter", id: entry.id, fields: entry.message });
  }
  for await (const entries of streamEntries(redis, redisKeys.stream)) {
    for (const entry of entries) await emit({ type: "streamEntry", id: entry.id, fields: entry.message });
  }
  return { lineage, counts };
}

// Re-queues an entry once per original id, atomically with its marker, unless its profile
// operations were already applied. KEYS: requeued hash, stream, applied marker. ARGV: marker, fields...
const REQUEUE_ONCE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('HSET', KEYS[1], ARGV[1], id)
return 1
`;

// Keeps the earlier of two `YYYY-MM-DD` days. KEYS: hash. ARGV: field, day. Returns 1 when it wrote.
const EARLIER_DAY = `
local live = redis.call('HGET', KEYS[1], ARGV[1])
if live and live <= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

export interface PropertyMerge {
  created: number;
  propertiesAdded: number;
  propertiesKept: number;
}

export interface RedisMergeReport {
  sameLineage: boolean;
  identities: { added: number; kept: number };
  firstSeen: { written: number; kept: number };
  profiles: PropertyMerge;
  groups: PropertyMerge;
  deadLetters: { requeued: number; skipped: number };
  streamEntries: { requeued: number; skipped: number };
}

async function mergeHash(redis: Redis, key: string, props: Record<string, string>, into: PropertyMerge): Promise<void> {
  const existed = (await redis.exists(key)) === 1;
  const results = await Promise.all(Object.entries(props).map(([field, value]) => redis.hSetNX(key, field, value)));
  const added = results.filter((result) => Number(result) === 1).length;
  if (!existed && added > 0) into.created += 1;
  into.propertiesAdded += added;
  into.propertiesKept += results.length - added;
}

async function ensureConsumerGroup(redis: Redis): Promise<void> {
  try {
    // From 0, so entries queued before any worker ever started are still delivered.
    await redis.xGroupCreate(redisKeys.stream, redisKeys.consumerGroup, "0", { MKSTREAM: true });
  } catch (error) {
    if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
  }
}

/** Merges records (in file order) into the live Redis by the rules above. */
export async function mergeRedisState(redis: Redis, lineage: string, records: AsyncIterable<StateRecord>): Promise<RedisMergeReport> {
  const liveLineage = await redis.get(opsKeys.lineage);
  const sameLineage = liveLineage === lineage;
  const report: RedisMergeReport = {
    sameLineage,
    identities: { added: 0, kept: 0 },
    firstSeen: { written: 0, kept: 0 },
    profiles: { created: 0, propertiesAdded: 0, propertiesKept: 0 },
    groups: { created: 0, propertiesAdded: 0, propertiesKept: 0 },
    deadLetters: { requeued: 0, skipped: 0 },
    streamEntries: { requeued: 0, skipped: 0 },
  };
  const queued: { stream: string; id: string; fields: Record<string, string>; into: { requeued: number; skipped: number } }[] = [];
  let pending: Promise<void>[] = [];
  const flush = async () => {
    await Promise.all(pending);
    pending = [];
  };
  for await (const record of records) {
    switch (record.type) {
      case "identity":
        pending.push(
          redis.hSetNX(redisKeys.identityMap, record.device, record.user).then((result) => {
            if (Number(result) === 1) report.identities.added += 1;
            else report.identities.kept += 1;
          }),
        );
        break;
      case "firstSeen":
        pending.push(
          redis.eval(EARLIER_DAY, { keys: [FIRST_SEEN_KEY], arguments: [record.id, record.day] }).then((result) => {
            if (Number(result) === 1) report.firstSeen.written += 1;
            else report.firstSeen.kept += 1;
          }),
        );
        break;
      case "profile":
        pending.push(mergeHash(redis, redisKeys.profile(record.id), record.props, report.profiles).then(() => redis.sAdd(redisKeys.profileIndex, record.id)).then(() => undefined));
        break;
      case "group":
        pending.push(mergeHash(redis, `mx:group:${record.member}`, record.props, report.groups).then(() => redis.sAdd(redisKeys.groupIndex, record.member)).then(() => undefined));
        break;
      case "deadLetter":
        queued.push({ stream: redisKeys.deadLetters, id: record.id, fields: record.fields, into: report.deadLetters });
        break;
      case "streamEntry":
        queued.push({ stream: redisKeys.stream, id: record.id, fields: record.fields, into: report.streamEntries });
        break;
    }
    if (pending.length >= BATCH) await flush();
  }
  await flush();

  if (sameLineage) {
    for (const entry of queued) entry.into.skipped += 1;
  } else {
    if (queued.some((entry) => entry.stream === redisKeys.stream)) await ensureConsumerGroup(redis);
    // In original order, one at a time: the stream keeps the order ingest accepted them in.
    queued.sort((a, b) => (a.stream === b.stream ? compareStreamIds(a.id, b.id) : a.stream < b.stream ? -1 : 1));
    for (const entry of queued) {
      const origin = entry.fields.origin || entry.id;
      // Dead letters keep their fields as they were; `dlq replay` derives the origin from them.
      const fields = entry.stream === redisKeys.stream ? { ...entry.fields, origin } : entry.fields;
      const result = await redis.eval(REQUEUE_ONCE, {
        keys: [opsKeys.requeued, entry.stream, redisKeys.applied(origin)],
        arguments: [`${entry.stream}/${entry.id}`, ...Object.entries(fields).flat()],
      });
      if (Number(result) === 1) entry.into.requeued += 1;
      else entry.into.skipped += 1;
    }
  }
  if (liveLineage === null) await ensureLineage(redis);
  return report;
}
