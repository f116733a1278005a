/**
 * A backup's id is its start time in UTC, `20261123T030000.123Z`: sortable as text, readable, and
 * unique for one stack's store (two backups never start in the same millisecond there).
 */

const ID_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

export function backupIdFor(time: Date): string {
  return time.toISOString().replace(/[-:]/g, "");
}

/** The start time encoded in an id, or undefined for a name that is not a backup id. */
export function timeOfBackupId(id: string): Date | undefined {
  const match = ID_PATTERN.exec(id);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, ms] = match;
  const time = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${ms}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
