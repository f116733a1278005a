import { z } from "zod";

/**
 * `manifest.json`, written last into a backup: a backup without one is incomplete. Everything in
 * it is checked before a restore changes anything live.
 */

export const MANIFEST_FILE = "manifest.json";
export const REDIS_STATE_FILE = "redis-state.ndjson.gz";
export const INFLUX_DIR = "influx";

const countSchema = z.object({ rp: z.string(), measurement: z.string(), points: z.number().int().nonnegative() });

/**
 * A file's path inside its backup folder. A restore downloads to `<work dir>/<path>`: a path that
 * leaves the folder (`..`, absolute, a backslash) would write elsewhere, so it makes the manifest unusable.
 */
const backupFilePath = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith("/") && !path.includes("\\") && path.split("/").every((part) => part !== "" && part !== "." && part !== ".."), {
    message: "expected a relative path inside the backup (no '..', '.', empty parts, leading '/' or '\\')",
  });

export const manifestSchema = z.object({
  format: z.literal(1),
  id: z.string(),
  stack: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** `influxdb`: the server backed up; `influxd`: the binary that ran `influxd backup` (the image's). */
  versions: z.object({ mixstack: z.string(), influxdb: z.string(), influxd: z.string(), node: z.string() }),
  influx: z.object({
    database: z.string(),
    retentionPolicies: z.array(
      z.object({ name: z.string(), duration: z.string(), shardGroupDuration: z.string(), default: z.boolean() }),
    ),
    shards: z.number().int().nonnegative(),
    /** Points per retention policy and measurement, counted in the archive itself (see backup.ts). */
    counts: z.array(countSchema),
  }),
  redis: z.object({
    /** Identifies the Redis data set the state came from (see redis-state.ts). */
    lineage: z.string(),
    counts: z.object({
      identities: z.number().int().nonnegative(),
      firstSeen: z.number().int().nonnegative(),
      profiles: z.number().int().nonnegative(),
      groups: z.number().int().nonnegative(),
      deadLetters: z.number().int().nonnegative(),
      streamEntries: z.number().int().nonnegative(),
    }),
  }),
  files: z.array(z.object({ path: backupFilePath, bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Manifest["files"][number];
export type PointCount = z.infer<typeof countSchema>;

/** Parses a manifest's text; a truncated or foreign file is an Error value naming the backup. */
export function parseManifest(id: string, text: string): Manifest | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return new Error(`backup ${id}: ${MANIFEST_FILE} is not valid JSON (truncated?): ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return new Error(`backup ${id}: ${MANIFEST_FILE} is not a mixstack manifest: ${issue.path.join(".")}: ${issue.message}`);
  }
  if (parsed.data.id !== id) return new Error(`backup ${id}: ${MANIFEST_FILE} belongs to backup ${parsed.data.id}`);
  return parsed.data;
}

export interface FileFacts {
  bytes: number;
  sha256: string;
}

/**
 * Compares the files a backup should hold with the files found. Returns every problem (empty when
 * the archive is whole), so the error can say all that is wrong at once.
 */
export function findFileProblems(expected: ManifestFile[], found: Map<string, FileFacts | undefined>): string[] {
  const problems: string[] = [];
  for (const file of expected) {
    const facts = found.get(file.path);
    if (!facts) problems.push(`${file.path}: missing`);
    else if (facts.bytes !== file.bytes) problems.push(`${file.path}: ${facts.bytes} bytes, expected ${file.bytes} (truncated?)`);
    else if (facts.sha256 !== file.sha256) problems.push(`${file.path}: sha256 ${facts.sha256}, expected ${file.sha256}`);
  }
  return problems;
}

/** Adds the counts of the same retention policy and measurement; sorted for stable output. */
export function sortCounts(counts: PointCount[]): PointCount[] {
  return [...counts].sort((a, b) => a.rp.localeCompare(b.rp) || a.measurement.localeCompare(b.measurement));
}

export interface CountDifference {
  rp: string;
  measurement: string;
  expected: number;
  actual: number;
}

/** Retention policy/measurement pairs whose point counts differ (a missing pair counts as 0). */
export function compareCounts(expected: PointCount[], actual: PointCount[]): CountDifference[] {
  const key = (count: PointCount) => `${count.rp}\u0000${count.measurement}`;
  const pairs = new Map<string, CountDifference>();
  for (const count of expected) pairs.set(key(count), { rp: count.rp, measurement: count.measurement, expected: count.points, actual: 0 });
  for (const count of actual) {
    const existing = pairs.get(key(count)) ?? { rp: count.rp, measurement: count.measurement, expected: 0, actual: 0 };
    pairs.set(key(count), { ...existing, actual: count.points });
  }
  return [...pairs.values()].filter((pair) => pair.expected !== pair.actual);
}
