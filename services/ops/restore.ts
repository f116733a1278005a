import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { countArchive, scratchDatabase } from "./backup";
import { resolveBackup } from "./catalog";
import type { OpsContext } from "./context";
import {
  archiveHasShards,
  countPoints,
  databaseExists,
  dropDatabase,
  ensureDatabase,
  mergeDatabase,
  restoreAsNewDatabase,
  waitForDatabaseReadable,
} from "./influx-archive";
import { readStateFile, sha256File } from "./local-files";
import { withOpsLock } from "./lock";
import {
  INFLUX_DIR,
  REDIS_STATE_FILE,
  compareCounts,
  findFileProblems,
  type CountDifference,
  type FileFacts,
  type Manifest,
  type PointCount,
} from "./manifest";
import { reopenAllDays } from "../core/reopened-days";
import { countRecord, emptyStateCounts, type StateCounts } from "./redis-state-format";
import { mergeRedisState, type RedisMergeReport } from "./redis-state";
import { erasedIdsIn, erasedSince, reapplyToDatabase, withoutErased, type Reapplication } from "./reapply-erasures";

/** A backup that failed its checks; nothing live was changed when this is thrown. */
export class DamagedBackupError extends Error {}

export interface FetchedBackup {
  manifest: Manifest;
  dir: string;
  bytes: number;
}

/**
 * Downloads a backup and checks it whole before anyone uses it: every file of the manifest present
 * with its size and sha256, and the Redis state file readable to its end with the counts the
 * manifest says.
 */
export async function fetchVerifiedBackup(ctx: OpsContext, from: string, dir: string): Promise<FetchedBackup> {
  const entry = await resolveBackup(ctx.store, from);
  const manifest = entry.manifest!;
  const stored = new Map((await ctx.store.listFiles(manifest.id)).map((file) => [file.path, file.bytes]));
  const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  const task = ctx.progress.start(`backup ${manifest.id}: download from ${ctx.store.url}`, { bytes, shards: manifest.files.length });
  const found = new Map<string, FileFacts | undefined>();
  for (const file of manifest.files) {
    const size = stored.get(file.path);
    if (size === undefined) {
      found.set(file.path, undefined);
      continue;
    }
    const local = join(dir, file.path);
    await ctx.store.download(manifest.id, file.path, local, (received) => task.addBytes(received));
    found.set(file.path, await sha256File(local));
    task.shardDone();
  }
  task.finish();
  const problems = findFileProblems(manifest.files, found);
  if (problems.length) {
    throw new DamagedBackupError(`backup ${manifest.id} is damaged; nothing was changed:\n  ${problems.join("\n  ")}`);
  }
  const counts = emptyStateCounts();
  try {
    for await (const record of readStateFile(join(dir, REDIS_STATE_FILE))) countRecord(counts, record);
  } catch (error) {
    throw new DamagedBackupError(`backup ${manifest.id}: Redis state unreadable; nothing was changed: ${(error as Error).message}`);
  }
  const differences = (Object.keys(counts) as (keyof StateCounts)[]).filter((key) => counts[key] !== manifest.redis.counts[key]);
  if (differences.length) {
    const detail = differences.map((key) => `${key}: ${counts[key]} in file, ${manifest.redis.counts[key]} in manifest`).join(", ");
    throw new DamagedBackupError(`backup ${manifest.id}: Redis state does not match its manifest (${detail}); nothing was changed`);
  }
  return { manifest, dir, bytes };
}

function describeDifferences(differences: CountDifference[]): string {
  return differences.map((d) => `${d.rp}.${d.measurement}: ${d.actual} restored, ${d.expected} in manifest`).join("; ");
}

export interface VerifyReport {
  id: string;
  files: number;
  bytes: number;
  counts: PointCount[];
  redis: StateCounts;
}

/** `mixstack backup verify`: the restore drill, into the scratch database only. */
export async function verifyBackup(ctx: OpsContext, from: string): Promise<VerifyReport> {
  return withOpsLock(ctx.redis, "verify", async () => {
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, "mixstack-verify-"));
    try {
      const { manifest, bytes } = await fetchVerifiedBackup(ctx, from, dir);
      const counts = await countArchive(ctx, manifest.influx.database, join(dir, INFLUX_DIR), `verify ${manifest.id}`);
      const differences = compareCounts(manifest.influx.counts, counts);
      if (differences.length) throw new DamagedBackupError(`backup ${manifest.id}: point counts differ: ${describeDifferences(differences)}`);
      return { id: manifest.id, files: manifest.files.length, bytes, counts, redis: manifest.redis.counts };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

export interface RestoreReport {
  id: string;
  bytes: number;
  /** `whole`: the database did not exist and was restored directly; `merge`: merged into the live one. */
  mode: "whole" | "merge";
  created: string[];
  /** Per retention policy and measurement: in the backup, erased again from it (when any), and live after the merge. */
  counts: { rp: string; measurement: string; backup: number; erased?: number; liveAfter: number }[];
  pointsWritten: number;
  redis: RedisMergeReport;
  /** Erasures recorded after the backup started, applied to what was restored (docs/privacy.md). */
  erasures: Reapplication;
}

/**
 * `mixstack restore --from ID|latest`, into the live system without stopping it:
 * 1. download and check the archive (files, sizes, sha256, Redis state) — nothing live yet;
 * 2. `influxd restore -portable -newdb` into the scratch database and compare its counts with the
 *    manifest — still nothing live;
 * 3. re-apply every erasure recorded after the backup started (`forget`) to the scratch database;
 * 4. if the database is gone and nothing had to be erased, restore it whole; otherwise create missing
 *    retention policies and merge with `SELECT * INTO … GROUP BY *` (points are idempotent: safe
 *    twice and under writes);
 * 5. merge the Redis state, without the erased people; drop the scratch database; report counts.
 */
export async function restoreBackup(ctx: OpsContext, from: string): Promise<RestoreReport> {
  return withOpsLock(ctx.redis, "restore", async () => {
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, "mixstack-restore-"));
    const scratch = scratchDatabase(ctx.db);
    try {
      const { manifest, bytes } = await fetchVerifiedBackup(ctx, from, dir);
      const log = ctx.logger.child({ backup: manifest.id });
      const erasedLater = await erasedSince(ctx, manifest.startedAt);

      // A backup of a database without any point yet is metadata only: influxd does not restore it,
      // and the database with its retention policies is all there is to bring back.
      const hasShards = await archiveHasShards(join(dir, INFLUX_DIR));
      let restored: PointCount[] = [];
      if (hasShards) {
        if (await databaseExists(ctx.influx, scratch)) await dropDatabase(ctx.influx, scratch);
        const restoreTask = ctx.progress.start(`restore ${manifest.id}: influxd restore`, { shards: manifest.influx.shards });
        await restoreAsNewDatabase(ctx.influxd, manifest.influx.database, scratch, join(dir, INFLUX_DIR), (name) => restoreTask.shardDone(name));
        restoreTask.finish();
        await waitForDatabaseReadable(ctx.influx, scratch);
        restored = await countPoints(ctx.influx, scratch);
      }
      const differences = compareCounts(manifest.influx.counts, restored);
      if (differences.length) {
        throw new DamagedBackupError(`backup ${manifest.id}: restored point counts differ from the manifest (${describeDifferences(differences)}); live data was not changed`);
      }

      // Still nothing live: the erased people leave the scratch database before it is merged.
      const erasures: Reapplication = { erasures: erasedLater?.erasures ?? 0, points: {}, redisRecords: 0 };
      let erasedIds = new Set<string>();
      if (erasedLater) {
        erasedIds = await erasedIdsIn(ctx.influx, hasShards ? scratch : undefined, erasedLater.erased, readStateFile(join(dir, REDIS_STATE_FILE)));
        if (hasShards) erasures.points = await reapplyToDatabase(ctx.influx, scratch, erasedIds);
        log.info({ erasures: erasures.erasures, points: erasures.points }, "erasures re-applied to the restored data");
      }
      const erasedFromScratch = Object.values(erasures.points).some((count) => count > 0);

      // From here on the live system changes; every step may be repeated.
      let created: string[] = [];
      let pointsWritten: number | undefined;
      let mode: RestoreReport["mode"] = "merge";
      if (!hasShards) {
        created = await ensureDatabase(ctx.influx, ctx.db, manifest.influx.retentionPolicies);
        if (created.some((what) => what.startsWith("database "))) mode = "whole";
        pointsWritten = 0;
      } else if (!erasedFromScratch && !(await databaseExists(ctx.influx, ctx.db))) {
        // Disaster recovery: nothing to merge with, so InfluxDB restores the shards directly
        // (as fast as influxd restore itself), with the backup's retention policies. Not when the
        // archive holds erased people: then the erased scratch database is merged instead.
        try {
          const wholeTask = ctx.progress.start(`restore ${manifest.id}: restore ${ctx.db} whole`, { shards: manifest.influx.shards });
          await restoreAsNewDatabase(ctx.influxd, manifest.influx.database, ctx.db, join(dir, INFLUX_DIR), (name) => wholeTask.shardDone(name));
          wholeTask.finish();
          await waitForDatabaseReadable(ctx.influx, ctx.db);
          created = [`database ${ctx.db} (restored whole: it did not exist)`];
          pointsWritten = manifest.influx.counts.reduce((sum, count) => sum + count.points, 0);
          mode = "whole";
        } catch (error) {
          // Someone (bootstrap, the worker) created it meanwhile, or the restore stopped half-way:
          // what exists is kept and the merge below fills in the rest.
          if (!(await databaseExists(ctx.influx, ctx.db))) throw error;
          log.warn({ err: error }, "direct restore did not complete; merging instead");
        }
      }
      if (mode === "merge" && hasShards) {
        created = await ensureDatabase(ctx.influx, ctx.db, manifest.influx.retentionPolicies);
        if (created.length) log.info({ created }, "recreated what the backup had and InfluxDB did not");
        const mergeTask = ctx.progress.start(`restore ${manifest.id}: merge into ${ctx.db}`, { shards: manifest.influx.shards });
        pointsWritten = await mergeDatabase(ctx.influx, scratch, ctx.db, (name) => mergeTask.shardDone(name));
        mergeTask.finish();
      }

      const counter = { left: 0 };
      const records = readStateFile(join(dir, REDIS_STATE_FILE));
      const redis = await mergeRedisState(ctx.redis, manifest.redis.lineage, erasedLater ? withoutErased(records, erasedLater.erased, erasedIds, counter) : records);
      erasures.redisRecords = counter.left;
      log.info({ redis }, "Redis state merged");
      // The backup's rollup points came back too, possibly older than the live ones: the worker computes every day again.
      const rollupDays = await reopenAllDays(ctx.redis, ctx.influx, ctx.db, ctx.now().getTime());
      log.info({ rollupDays }, "rollup days reopened");

      const live = await countPoints(ctx.influx, ctx.db);
      const liveOf = (count: PointCount) => live.find((entry) => entry.rp === count.rp && entry.measurement === count.measurement)?.points ?? 0;
      const counts = manifest.influx.counts.map((count) => {
        const erased = erasures.points[count.measurement];
        return { rp: count.rp, measurement: count.measurement, backup: count.points, ...(erased ? { erased } : {}), liveAfter: liveOf(count) };
      });
      return { id: manifest.id, bytes, mode, created, counts, pointsWritten: pointsWritten ?? 0, redis, erasures };
    } finally {
      if (await databaseExists(ctx.influx, scratch).catch(() => false)) await dropDatabase(ctx.influx, scratch);
      await rm(dir, { recursive: true, force: true });
    }
  });
}
