import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runBackup } from "./backup";
import { listBackups } from "./catalog";
import type { OpsContext } from "./context";
import { erasureIdFor, idHash, ledgerKey, recordErasure, type ErasureRecord } from "./erasure-ledger";
import { readStateFile, stateFileWriter } from "./local-files";
import { withOpsLock } from "./lock";
import type { PersonIds } from "./person-ids";
import { reopenDays } from "../core/reopened-days";
import { erasePersonPoints, mergeLinks, personLayouts, pointsInShard, shardsToScan } from "./person-points";
import { erasePersonRedis, queueDrainedTo, queuedEntriesOf, readPersonRedis, resolvePerson, streamTail, type RedisErasure } from "./person-redis";
import { erasedIdsIn, erasedSince } from "./reapply-erasures";
import { exportRedisState } from "./redis-state";
import { selectRetention, type StoredBackup } from "./retention";

/**
 * `mixstack forget <distinct_id…>`: erases people (GDPR art. 17) from everything the stack holds.
 *
 * 1. Under the ops lock (no backup or restore runs meanwhile), the request's ids are widened to each
 *    person's identity cluster (`person-redis.ts`).
 * 2. Their points are deleted from InfluxDB, shard by shard (`person-points.ts`), and their state
 *    from Redis: identity map, first-seen days, profiles, dead letters.
 * 3. If the queue held items of theirs when the erasure began, the worker writes them after step 2:
 *    forget waits until every entry queued before it has left the queue, then erases again.
 * 4. The erasure is recorded in the backup store's ledger (keyed hashes only, no ids), which every
 *    restore re-applies to what it restores (`restore.ts`), so a backup never brings them back.
 * 5. Backups taken before it still hold them until retention removes them; with the `replace`
 *    policy, forget takes a new backup at once and deletes every older one.
 */

export type BackupPolicy = "age-out" | "replace";

export interface ForgetOptions {
  ids: string[];
  complianceType?: string;
  backups: BackupPolicy;
  /** How long to wait for queued entries of theirs to be written (then erased again). */
  drainTimeoutMs: number;
}

export interface ForgetReport {
  erasure: string;
  startedAt: string;
  finishedAt: string;
  requested: number;
  users: number;
  devices: number;
  points: Record<string, number>;
  shardsScanned: number;
  redis: RedisErasure;
  /** Queued entries that held items of theirs when the erasure began (written, then erased again). */
  queuedEntries: number;
  /** The Redis append-only file was rewritten, so it no longer holds their commands. */
  aofRewrite: string;
  backups: {
    policy: BackupPolicy;
    /** Backups in the store that were taken before this erasure (they may hold the person). */
    older: string[];
    /** `replace`: the new backup and the older ones removed. */
    replacedBy?: string;
    removed: string[];
    /** `age-out`: when retention deletes the last older backup, if a backup keeps running every day. */
    agedOutBy?: string;
  };
}

export class ForgetIncompleteError extends Error {}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

function addRedis(into: RedisErasure, from: RedisErasure): void {
  for (const key of Object.keys(from) as (keyof RedisErasure)[]) into[key] += from[key];
}

/** The person widened to their cluster, from Redis and `identity_merges`. */
export function lookUpPerson(ctx: Pick<OpsContext, "redis" | "influx" | "db">, ids: readonly string[]): Promise<PersonIds> {
  return resolvePerson(ctx.redis, ids, (candidates) => mergeLinks(ctx.influx, ctx.db, candidates));
}

async function rewriteAof(ctx: OpsContext): Promise<string> {
  try {
    await ctx.redis.sendCommand(["BGREWRITEAOF"]);
    return "started";
  } catch (error) {
    // Managed Redis (ElastiCache, Memorystore) does not allow it; a rewrite already running will do.
    return `not done: ${(error as Error).message}`;
  }
}

/**
 * The day on which retention deletes the last of `older`, simulating one backup a day from `now`
 * with the stack's keep rules; undefined if that takes more than two years.
 */
export function agedOutBy(backups: readonly StoredBackup[], older: ReadonlySet<string>, policy: OpsContext["retention"], now: Date): Date | undefined {
  let kept = backups.filter((backup) => backup.complete);
  for (let day = 1; day <= 730; day += 1) {
    const time = new Date(now.getTime() + day * 86_400_000);
    kept = [...kept, { id: `future-${day}`, time, complete: true }];
    const removed = new Set(selectRetention(kept, policy).remove.map((entry) => entry.id));
    kept = kept.filter((backup) => !removed.has(backup.id));
    if (!kept.some((backup) => older.has(backup.id))) return time;
  }
  return undefined;
}

export async function forget(ctx: OpsContext, options: ForgetOptions): Promise<ForgetReport> {
  const report = await withOpsLock(ctx.redis, "forget", () => forgetUnlocked(ctx, options));
  if (options.backups === "replace") {
    const backup = await runBackup(ctx);
    report.backups.replacedBy = backup.manifest.id;
    for (const id of report.backups.older) {
      await ctx.store.remove(id);
      report.backups.removed.push(id);
      ctx.logger.info({ backup: id, erasure: report.erasure }, "forget: removed a backup older than the erasure");
    }
  }
  return report;
}

async function forgetUnlocked(ctx: OpsContext, options: ForgetOptions): Promise<ForgetReport> {
  const started = ctx.now();
  const erasure = erasureIdFor(started);
  const log = ctx.logger.child({ erasure });
  // Created before anything is erased: an erasure that cannot be recorded must not happen.
  const key = (await ledgerKey(ctx.store, ctx.workDir, true))!;
  const tail = await streamTail(ctx.redis);

  let person = await lookUpPerson(ctx, options.ids);
  const queued = await queuedEntriesOf(ctx.redis, person, tail);
  const points: Record<string, number> = {};
  const redis = emptyRedisErasure();
  let shardsScanned = 0;
  const hashes = new Set<string>();

  const pass = async (label: string) => {
    for (const id of person.all) hashes.add(idHash(key, id));
    const task = ctx.progress.start(`forget ${erasure}: ${label}`, {});
    const erased = await erasePersonPoints(ctx.influx, ctx.db, person.all, { onShard: (name) => task.shardDone(name) });
    task.finish();
    add(points, erased.deleted);
    shardsScanned += erased.shardsScanned;
    await reopenDays(ctx.redis, erased.days);
    addRedis(redis, await erasePersonRedis(ctx.redis, person));
  };
  await pass("erase");
  log.info({ users: person.users.length, devices: person.devices.length, points }, "first pass done");

  let incomplete: string | undefined;
  if (queued.length) {
    log.info({ queued: queued.length }, "waiting for queued entries of theirs to be written");
    const deadline = Date.now() + options.drainTimeoutMs;
    while (!(await queueDrainedTo(ctx.redis, tail)) && Date.now() < deadline) await sleep(250);
    if (await queueDrainedTo(ctx.redis, tail)) {
      // The worker may also have learnt new devices of theirs from those entries.
      person = await lookUpPerson(ctx, [...new Set([...options.ids, ...person.users])]);
      await pass("erase what the queue delivered");
    } else {
      incomplete = `${queued.length} queued entr${queued.length === 1 ? "y" : "ies"} of theirs not written within ${Math.round(options.drainTimeoutMs / 1000)} s (is the worker running?)`;
    }
  }

  const aofRewrite = await rewriteAof(ctx);
  const finished = ctx.now();
  const record: ErasureRecord = {
    format: 1,
    id: erasure,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    complianceType: options.complianceType,
    idHashes: [...hashes].sort(),
    removed: { ...points, ...Object.fromEntries(Object.entries(redis).map(([name, count]) => [`redis.${name}`, count])) },
  };
  await recordErasure(ctx.store, ctx.workDir, record);
  log.info({ points, redis }, "erasure recorded");
  if (incomplete) {
    throw new ForgetIncompleteError(`erasure ${erasure} recorded, but ${incomplete}; run the same forget again once the queue has drained`);
  }

  const backups = await listBackups(ctx.store);
  const older = backups.filter((backup) => backup.time.getTime() <= finished.getTime()).map((backup) => backup.id);
  const agedOut = options.backups === "age-out" && older.length ? agedOutBy(backups, new Set(older), ctx.retention, finished) : undefined;
  return {
    erasure,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    requested: options.ids.length,
    users: person.users.length,
    devices: person.devices.length,
    points,
    shardsScanned,
    redis,
    queuedEntries: queued.length,
    aofRewrite,
    backups: { policy: options.backups, older, removed: [], agedOutBy: agedOut?.toISOString().slice(0, 10) },
  };
}

export interface ForgetPreview {
  requested: number;
  users: number;
  devices: number;
  points: Record<string, number>;
  identities: number;
  firstSeen: number;
  profiles: number;
  deadLetters: number;
  queued: number;
}

/** `forget --dry-run`: what an erasure would remove, counted; nothing changes. */
export async function previewForget(ctx: OpsContext, ids: readonly string[]): Promise<ForgetPreview> {
  const person = await lookUpPerson(ctx, ids);
  const points: Record<string, number> = {};
  const layouts = await personLayouts(ctx.influx, ctx.db);
  for (const shard of await shardsToScan(ctx.influx, ctx.db)) {
    for (const layout of layouts) {
      for await (const page of pointsInShard(ctx.influx, ctx.db, shard, layout, person.all, "identity")) add(points, { [layout.measurement]: page.length });
    }
  }
  const state = await readPersonRedis(ctx.redis, person);
  return {
    requested: ids.length,
    users: person.users.length,
    devices: person.devices.length,
    points,
    identities: Object.keys(state.identities).length,
    firstSeen: Object.keys(state.firstSeen).length,
    profiles: Object.keys(state.profiles).length,
    deadLetters: state.deadLetters.length,
    queued: state.queued.length,
  };
}

export interface ReapplyReport {
  erasures: number;
  /** Ids of erased people found in the live data again (a count: the ids stay in memory). */
  idsFound: number;
  points: Record<string, number>;
  redis: RedisErasure;
}

/**
 * `forget --reapply`: every recorded erasure applied again to the live system, for data that came
 * back without a mixstack restore (a disk snapshot of InfluxDB or Redis, a managed Redis snapshot,
 * a copy made by hand). The ids are found by hashing what the live data holds, as a restore does.
 */
export async function reapplyErasures(ctx: OpsContext): Promise<ReapplyReport> {
  return withOpsLock(ctx.redis, "forget --reapply", async () => {
    const since = await erasedSince(ctx, "");
    if (!since) return { erasures: 0, idsFound: 0, points: {}, redis: emptyRedisErasure() };
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, "mixstack-reapply-"));
    try {
      // The live Redis state, through a file: bounded memory however many profiles there are.
      const file = join(dir, "redis-state.ndjson.gz");
      const writer = stateFileWriter(file);
      await exportRedisState(ctx.redis, (record) => writer.write(record));
      await writer.close();
      const ids = await erasedIdsIn(ctx.influx, ctx.db, since.erased, readStateFile(file));
      const all = [...ids].sort();
      const erased = await erasePersonPoints(ctx.influx, ctx.db, all);
      await reopenDays(ctx.redis, erased.days);
      const redis = await erasePersonRedis(ctx.redis, { requested: [], users: [], devices: [], all });
      return { erasures: since.erasures, idsFound: all.length, points: erased.deleted, redis };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

function emptyRedisErasure(): RedisErasure {
  return { identities: 0, firstSeen: 0, profiles: 0, deadLettersDeleted: 0, deadLettersRewritten: 0, deadLetterItems: 0 };
}
