/**
 * Backup and restore time for N events (default 1,000,000), each printed beside a baseline measured
 * in the same run on the same data: raw `influxd backup -portable` for the backup, raw
 * `influxd restore -portable -newdb` for the restore. Not part of `npm test`.
 *
 *   npx tsx bench/backup.ts [--events 1000000] [--profiles 10000]
 *
 * Starts its own influxd and redis-server on free loopback ports (stopped by PID at the end) and
 * writes the figures to bench/results/backup.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeEntry, redisKeys } from "../services/core/queue";
import { repoRoot } from "../services/dev/processes";
import { runBackup, scratchDatabase } from "../services/ops/backup";
import { backupDatabase, dropDatabase, restoreAsNewDatabase, waitForDatabaseReadable } from "../services/ops/influx-archive";
import { describeFiles } from "../services/ops/local-files";
import { formatBytes } from "../services/ops/progress";
import { restoreBackup } from "../services/ops/restore";
import { startBenchStores, timed } from "./bench-stores";
import { loadBrowserEvents } from "./browser-events";

const { values } = parseArgs({
  options: { events: { type: "string", default: "1000000" }, profiles: { type: "string", default: "10000" } },
});
const EVENTS = Number(values.events);
const PROFILES = Number(values.profiles);
const DB = "mixevents";
const TARGET_SECONDS = 60;


async function main(): Promise<void> {
  const stores = await startBenchStores("backup", DB);
  const { root, client, redis, ctx } = stores;
  try {

    process.stderr.write(`loading ${EVENTS} events and ${PROFILES} profiles...\n`);
    const [, loadSeconds] = await timed(async () => {
      await loadBrowserEvents(client, DB, EVENTS);
      for (let from = 0; from < PROFILES; from += 1000) {
        await Promise.all(
          Array.from({ length: Math.min(1000, PROFILES - from) }, (_, k) => from + k).flatMap((i) => [
            redis.hSet(redisKeys.identityMap, `device-${i}`, `user-${i}`),
            redis.hSet(redisKeys.profile(`user-${i}`), { $name: JSON.stringify(`User ${i}`), plan: JSON.stringify(i % 2 ? "pro" : "free"), logins: String(i) }),
            redis.sAdd(redisKeys.profileIndex, `user-${i}`),
          ]),
        );
      }
      await redis.xAdd(redisKeys.stream, "*", encodeEntry({ kind: "track", received: Date.now(), items: [] }));
    });


    // Baseline for the backup: influxd backup -portable alone, same database, same moment.
    const rawDir = join(root, "raw-backup");
    const [, rawBackupSeconds] = await timed(() => backupDatabase(ctx.influxd, DB, rawDir, () => undefined));
    const rawBytes = (await describeFiles(rawDir)).reduce((sum, file) => sum + file.bytes, 0);

    process.stderr.write("mixstack backup...\n");
    const [backup, backupSeconds] = await timed(() => runBackup(ctx));

    // Baseline for the restore: influxd restore -portable -newdb alone (no checks, no merge).
    const rawDb = `${DB}_raw_restore`;
    const [, rawRestoreSeconds] = await timed(async () => {
      await restoreAsNewDatabase(ctx.influxd, DB, rawDb, rawDir, () => undefined);
      await waitForDatabaseReadable(client, rawDb);
    });
    await dropDatabase(client, rawDb);

    // Restore into the live system: every point of the backup merged into the existing database.
    process.stderr.write("mixstack restore into the live database (merge)...\n");
    const [merged, mergeSeconds] = await timed(() => restoreBackup(ctx, "latest"));
    if (merged.mode !== "merge") throw new Error(`expected a merge, got ${merged.mode}`);

    // Disaster recovery: database and Redis lost.
    await dropDatabase(client, DB);
    await redis.flushAll();
    process.stderr.write("mixstack restore after losing everything...\n");
    const [restore, restoreSeconds] = await timed(() => restoreBackup(ctx, "latest"));
    const restoredEvents = restore.counts.find((count) => count.measurement === "events")?.liveAfter ?? 0;
    if (restore.mode !== "whole") throw new Error(`expected a whole restore, got ${restore.mode}`);
    if (restoredEvents !== EVENTS) throw new Error(`restore brought back ${restoredEvents} events, expected ${EVENTS}`);
    if (await client.query(`SHOW DATABASES`).then((r) => JSON.stringify(r).includes(scratchDatabase(DB)))) throw new Error("scratch database left behind");

    const rows = [
      ["phase", "mixstack (s)", "baseline (s)", "ratio", "baseline", `target ≤ ${TARGET_SECONDS} s`],
      ["backup", backupSeconds.toFixed(1), rawBackupSeconds.toFixed(1), (backupSeconds / rawBackupSeconds).toFixed(1), "influxd backup -portable", backupSeconds <= TARGET_SECONDS ? "met" : "MISSED"],
      ["restore (database lost)", restoreSeconds.toFixed(1), rawRestoreSeconds.toFixed(1), (restoreSeconds / rawRestoreSeconds).toFixed(1), "influxd restore -portable -newdb", restoreSeconds <= TARGET_SECONDS ? "met" : "MISSED"],
      ["restore (merge into live)", mergeSeconds.toFixed(1), rawRestoreSeconds.toFixed(1), (mergeSeconds / rawRestoreSeconds).toFixed(1), "influxd restore -portable -newdb", mergeSeconds <= TARGET_SECONDS ? "met" : "MISSED"],
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    process.stdout.write(`\n${EVENTS} events, ${PROFILES} profiles (loaded in ${loadSeconds.toFixed(1)} s); archive ${formatBytes(backup.bytes)} (raw influxd backup ${formatBytes(rawBytes)}), ${backup.manifest.influx.shards} shards\n`);
    process.stdout.write(`${rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ")).join("\n")}\n`);
    process.stdout.write(`restored: ${restoredEvents} events, ${restore.redis.profiles.created} profiles, ${restore.redis.identities.added} identities\n`);

    mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
    writeFileSync(
      join(repoRoot, "bench", "results", "backup.json"),
      `${JSON.stringify({ events: EVENTS, profiles: PROFILES, backupSeconds, rawBackupSeconds, restoreSeconds, mergeSeconds, rawRestoreSeconds, bytes: backup.bytes, rawBytes, shards: backup.manifest.influx.shards, at: new Date().toISOString() }, null, 2)}\n`,
    );
  } finally {
    await stores.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench/backup: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
