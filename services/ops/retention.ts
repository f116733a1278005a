/**
 * Which backups to delete after a successful backup: keep the newest backup of each of the last
 * `keepDaily` days that have one and of each of the last `keepWeekly` ISO weeks that have one
 * (restic's `--keep-daily`/`--keep-weekly` rule), and always the newest complete backup, so the
 * only good backup is never deleted whatever the policy says. Pure: the caller lists and deletes.
 */

export interface RetentionPolicy {
  keepDaily: number;
  keepWeekly: number;
}

export interface StoredBackup {
  id: string;
  time: Date;
  /** Has a readable manifest, i.e. the upload finished. */
  complete: boolean;
}

export interface RetentionDecision {
  keep: { id: string; reasons: string[] }[];
  remove: { id: string; reason: string }[];
}

export function dayKey(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** ISO 8601 week, e.g. `2026-W48` (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekKey(time: Date): string {
  const date = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function newestPerBucket(backups: StoredBackup[], count: number, bucketOf: (time: Date) => string): Map<string, string> {
  const chosen = new Map<string, string>(); // id -> bucket
  const seen = new Set<string>();
  for (const backup of backups) {
    if (seen.size >= count) break;
    const bucket = bucketOf(backup.time);
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    chosen.set(backup.id, bucket);
  }
  return chosen;
}

export function selectRetention(backups: StoredBackup[], policy: RetentionPolicy): RetentionDecision {
  const newestFirst = [...backups].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
  const complete = newestFirst.filter((backup) => backup.complete);
  if (complete.length === 0) return { keep: newestFirst.map(({ id }) => ({ id, reasons: ["no complete backup exists"] })), remove: [] };

  const reasons = new Map<string, string[]>();
  const add = (id: string, reason: string) => reasons.set(id, [...(reasons.get(id) ?? []), reason]);
  add(complete[0]!.id, "newest complete backup");
  for (const [id, day] of newestPerBucket(complete, policy.keepDaily, dayKey)) add(id, `daily ${day}`);
  for (const [id, week] of newestPerBucket(complete, policy.keepWeekly, isoWeekKey)) add(id, `weekly ${week}`);

  const newestComplete = complete[0]!.time.getTime();
  const decision: RetentionDecision = { keep: [], remove: [] };
  for (const backup of newestFirst) {
    const kept = reasons.get(backup.id);
    if (kept) decision.keep.push({ id: backup.id, reasons: kept });
    else if (backup.complete) decision.remove.push({ id: backup.id, reason: "outside the daily and weekly windows" });
    // A partial backup newer than the newest complete one may still be uploading: leave it.
    else if (backup.time.getTime() < newestComplete) decision.remove.push({ id: backup.id, reason: "incomplete (no manifest)" });
    else decision.keep.push({ id: backup.id, reasons: ["incomplete but newer than the newest complete backup"] });
  }
  return decision;
}
