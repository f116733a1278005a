import type { BackupResult } from "./backup";
import type { CatalogEntry } from "./catalog";
import { formatBytes } from "./progress";
import type { RestoreReport, VerifyReport } from "./restore";

/** The text an operator reads after each command (pure: the commands print it). */

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}

export function formatBackupList(entries: CatalogEntry[]): string {
  if (entries.length === 0) return "no backups\n";
  const rows = [["ID", "STATUS", "SIZE", "EVENTS", "STACK", "INFLUXDB"]];
  for (const entry of entries) {
    const manifest = entry.manifest;
    const events = manifest?.influx.counts.filter((count) => count.measurement === "events").reduce((sum, count) => sum + count.points, 0);
    rows.push([
      entry.id,
      entry.complete ? "complete" : `incomplete: ${entry.problem}`,
      manifest ? formatBytes(manifest.files.reduce((sum, file) => sum + file.bytes, 0)) : "-",
      events === undefined ? "-" : String(events),
      manifest?.stack ?? "-",
      manifest?.versions.influxdb ?? "-",
    ]);
  }
  return `${table(rows)}\n`;
}

export function formatBackupResult(result: BackupResult): string {
  const { manifest } = result;
  const lines = [
    `backup ${manifest.id} complete: ${manifest.files.length} files, ${formatBytes(result.bytes)}`,
    ...manifest.influx.counts.map((count) => `  influx ${count.rp}.${count.measurement}: ${count.points} points`),
    `  redis: ${Object.entries(manifest.redis.counts).map(([key, value]) => `${value} ${key}`).join(", ")}`,
    `retention: kept ${result.retention.keep.length}, removed ${result.removed.length}${result.removed.length ? ` (${result.removed.join(", ")})` : ""}`,
  ];
  return `${lines.join("\n")}\n`;
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `backup ${report.id} verified: ${report.files} files (${formatBytes(report.bytes)}) match their sha256, restored into a scratch database, counts equal the manifest`,
    ...report.counts.map((count) => `  influx ${count.rp}.${count.measurement}: ${count.points} points`),
    `  redis: ${Object.entries(report.redis).map(([key, value]) => `${value} ${key}`).join(", ")}`,
  ];
  return `${lines.join("\n")}\n`;
}

export function formatRestoreReport(report: RestoreReport): string {
  const rows = [["RP.MEASUREMENT", "IN BACKUP", "LIVE AFTER", ""]];
  for (const count of report.counts) {
    const expected = count.backup - (count.erased ?? 0);
    const note = count.liveAfter < expected ? "FEWER THAN BACKUP" : count.erased ? `ok (${count.erased} of erased people left out)` : "ok";
    rows.push([`${count.rp}.${count.measurement}`, String(count.backup), String(count.liveAfter), note]);
  }
  const { redis } = report;
  const lines = [
    `restored backup ${report.id} (${formatBytes(report.bytes)}): ${report.pointsWritten} points ${report.mode === "whole" ? "restored into a new database" : "merged into the live database"}`,
    ...(report.created.length ? [`created: ${report.created.join(", ")}`] : []),
    table(rows),
    `identity map: ${redis.identities.added} added, ${redis.identities.kept} already there`,
    `first-seen days: ${redis.firstSeen.written} restored, ${redis.firstSeen.kept} kept (live day is earlier or equal)`,
    `profiles: ${redis.profiles.created} recreated, ${redis.profiles.propertiesAdded} properties added, ${redis.profiles.propertiesKept} kept (live value is newer)`,
    `groups: ${redis.groups.created} recreated, ${redis.groups.propertiesAdded} properties added, ${redis.groups.propertiesKept} kept`,
    ...(report.erasures.erasures
      ? [`erasures re-applied: ${report.erasures.erasures} recorded after this backup; ${report.erasures.redisRecords} Redis records of erased people left out or rewritten`]
      : []),
    `queue: ${redis.streamEntries.requeued} entries re-queued, ${redis.streamEntries.skipped} skipped; dead letters: ${redis.deadLetters.requeued} restored, ${redis.deadLetters.skipped} skipped${redis.sameLineage ? " (same Redis as the backup: entries gone since were written)" : ""}`,
  ];
  return `${lines.join("\n")}\n`;
}
