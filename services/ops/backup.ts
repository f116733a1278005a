import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
// A named import, so the bundle keeps only this field of package.json (not the dependency list).
import { version as mixstackVersion } from "../../package.json";
import { join } from "node:path";
import { redactUrl } from "../core/redact";
import { backupIdFor } from "./backup-id";
import { listBackups } from "./catalog";
import type { OpsContext } from "./context";
import {
  archiveHasShards,
  backupDatabase,
  countPoints,
  databaseExists,
  dropDatabase,
  influxdVersion,
  serverVersion,
  restoreAsNewDatabase,
  retentionPolicies,
  shards,
  waitForDatabaseReadable,
} from "./influx-archive";
import { describeFiles, stateFileWriter } from "./local-files";
import { withOpsLock } from "./lock";
import { INFLUX_DIR, MANIFEST_FILE, REDIS_STATE_FILE, sortCounts, type Manifest, type PointCount } from "./manifest";
import { exportRedisState } from "./redis-state";
import { selectRetention, type RetentionDecision } from "./retention";

/** The scratch database restores and counts go through; one at a time thanks to the ops lock. */
export function scratchDatabase(db: string): string {
  return `${db}__mixstack_scratch`;
}


/**
 * Restores an `influxd backup -portable` folder into the scratch database, counts its points and
 * drops it again. This is how a backup's counts are known exactly (what the archive holds, not
 * what the live database held around it) and how a restore checks an archive before merging.
 */
export async function countArchive(ctx: OpsContext, sourceDb: string, influxDir: string, label: string): Promise<PointCount[]> {
  // Metadata only (a database without any point yet): nothing to count, and nothing influxd restores.
  if (!(await archiveHasShards(influxDir))) return [];
  const scratch = scratchDatabase(ctx.db);
  if (await databaseExists(ctx.influx, scratch)) await dropDatabase(ctx.influx, scratch);
  try {
    const task = ctx.progress.start(`${label}: restore to scratch`, {});
    await restoreAsNewDatabase(ctx.influxd, sourceDb, scratch, influxDir, (name) => task.shardDone(name));
    task.finish();
    await waitForDatabaseReadable(ctx.influx, scratch);
    return sortCounts(await countPoints(ctx.influx, scratch));
  } finally {
    await dropDatabase(ctx.influx, scratch);
  }
}

export interface BackupResult {
  manifest: Manifest;
  bytes: number;
  retention: RetentionDecision;
  removed: string[];
}

/**
 * One backup: Redis state first, then InfluxDB (an entry written after the Redis export is then in
 * the InfluxDB backup; one written before is in both, and points are idempotent), counts, checksums,
 * upload, manifest last, then retention. Retention runs only when all of that succeeded.
 */
export async function runBackup(ctx: OpsContext): Promise<BackupResult> {
  return withOpsLock(ctx.redis, "backup", () => backupUnlocked(ctx));
}

async function backupUnlocked(ctx: OpsContext): Promise<BackupResult> {
  const startedAt = ctx.now();
  const id = backupIdFor(startedAt);
  const log = ctx.logger.child({ backup: id });
  await mkdir(ctx.workDir, { recursive: true });
  const work = await mkdtemp(join(ctx.workDir, `mixstack-backup-${id}-`));
  try {
    if (!(await databaseExists(ctx.influx, ctx.db))) throw new Error(`InfluxDB database ${ctx.db} does not exist at ${redactUrl(ctx.influx.connection.url)}`);

    log.info("exporting Redis state");
    const writer = stateFileWriter(join(work, REDIS_STATE_FILE));
    const redisState = await exportRedisState(ctx.redis, (record) => writer.write(record));
    await writer.close();
    log.info({ counts: redisState.counts }, "Redis state exported");

    const policies = await retentionPolicies(ctx.influx, ctx.db);
    const shardCount = (await shards(ctx.influx, ctx.db)).length;
    const influxDir = join(work, INFLUX_DIR);
    const task = ctx.progress.start(`backup ${id}: influxd backup`, { shards: shardCount });
    await backupDatabase(ctx.influxd, ctx.db, influxDir, (name) => task.shardDone(name));
    task.finish();

    const counts = await countArchive(ctx, ctx.db, influxDir, `backup ${id}`);
    log.info({ counts }, "archive counted");

    const files = await describeFiles(work);
    const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
    const upload = ctx.progress.start(`backup ${id}: upload to ${ctx.store.url}`, { bytes, shards: files.length });
    for (const file of files) {
      await ctx.store.upload(id, file.path, join(work, file.path), (sent) => upload.addBytes(sent));
      upload.shardDone();
    }
    upload.finish();

    const manifest: Manifest = {
      format: 1,
      id,
      stack: ctx.stack,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      versions: {
        mixstack: mixstackVersion,
        influxdb: (await serverVersion(ctx.influx)) ?? "unknown",
        influxd: await influxdVersion(ctx.influxd.binary),
        node: process.version,
      },
      influx: { database: ctx.db, retentionPolicies: policies, shards: shardCount, counts },
      redis: { lineage: redisState.lineage, counts: redisState.counts },
      files,
    };
    const manifestPath = join(work, MANIFEST_FILE);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    // Last: its presence is what makes the backup complete.
    await ctx.store.upload(id, MANIFEST_FILE, manifestPath);
    log.info({ bytes, files: files.length }, "backup complete");

    const { retention, removed } = await applyRetention(ctx);
    return { manifest, bytes, retention, removed };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Deletes what the retention rule drops; only called after a successful backup. */
export async function applyRetention(ctx: OpsContext): Promise<{ retention: RetentionDecision; removed: string[] }> {
  const retention = selectRetention(await listBackups(ctx.store), ctx.retention);
  const removed: string[] = [];
  for (const { id, reasons } of retention.keep) ctx.logger.info({ backup: id, reasons }, "retention: kept backup");
  for (const { id, reason } of retention.remove) {
    await ctx.store.remove(id);
    removed.push(id);
    ctx.logger.info({ backup: id, reason }, "retention: removed backup");
  }
  return { retention, removed };
}
