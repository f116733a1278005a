import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { InfluxClient, InfluxError, quoteIdentifier, quoteString } from "../core/influx";
import { waitFor } from "../core/wait";
import { toInfluxqlDuration } from "./influx-duration";
import type { Manifest, PointCount } from "./manifest";

/**
 * The InfluxDB side of backup and restore: `influxd backup|restore -portable` over the RPC port,
 * point counts per retention policy and measurement, and the merge of a restored temporary
 * database into the live one with `SELECT * INTO … GROUP BY *` (tags stay tags; points are idempotent).
 */

export type RetentionPolicyInfo = Manifest["influx"]["retentionPolicies"][number];

export interface InfluxdTool {
  /** Path of the `influxd` binary. */
  binary: string;
  /** `host:port` of the RPC service. */
  host: string;
}

/** Runs `influxd` and hands each output line to `onLine`; a non-zero exit throws with the last lines. */
export function runInfluxd(binary: string, args: string[], onLine: (line: string) => void = () => undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let partial = "";
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        onLine(line);
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (error) => reject(new Error(`could not run ${binary}: ${error.message}`)));
    child.on("close", (code) => {
      if (partial) {
        lines.push(partial);
        onLine(partial);
      }
      const output = lines.join("\n");
      if (code === 0) resolve(output);
      else reject(new Error(`${binary} ${args[0]} exited with ${code}:\n${lines.slice(-15).join("\n")}`));
    });
  });
}

export async function influxdVersion(binary: string): Promise<string> {
  const output = await runInfluxd(binary, ["version"]);
  return /v?(\d+\.\d+\.\d+\S*)/.exec(output)?.[1] ?? output.trim();
}

/** The InfluxDB server's version (SHOW DIAGNOSTICS), or undefined if it does not say. */
export async function serverVersion(client: InfluxClient): Promise<string | undefined> {
  const [result] = await client.query("SHOW DIAGNOSTICS");
  const build = result?.series?.find((series) => series.name === "build");
  const index = build?.columns.indexOf("Version") ?? -1;
  const version = index >= 0 ? build?.values?.[0]?.[index] : undefined;
  return typeof version === "string" && version ? version : undefined;
}

/** `influxd backup -portable` of one database into `dir`; `onShard` is called per shard copied. */
export async function backupDatabase(tool: InfluxdTool, db: string, dir: string, onShard: (name: string) => void): Promise<void> {
  await runInfluxd(tool.binary, ["backup", "-portable", "-host", tool.host, "-db", db, dir], (line) => {
    const shard = /backing up db=\S+ rp=(\S+) shard=(\d+)/.exec(line);
    if (shard) onShard(`rp ${shard[1]} shard ${shard[2]}`);
  });
}

/**
 * `influxd restore -portable -db <db> -newdb <newDb>`: InfluxDB refuses to restore over an existing
 * database, so a restore always lands in a new one first.
 */
export async function restoreAsNewDatabase(
  tool: InfluxdTool,
  db: string,
  newDb: string,
  dir: string,
  onShard: (name: string) => void,
): Promise<void> {
  await runInfluxd(tool.binary, ["restore", "-portable", "-host", tool.host, "-db", db, "-newdb", newDb, dir], (line) => {
    const shard = /Restoring shard (\d+)/.exec(line);
    if (shard) onShard(`shard ${shard[1]}`);
  });
}

/**
 * Whether an `influxd backup -portable` folder holds any shard (`<stamp>.s<id>.tar.gz`). A database
 * without any point yet backs up to metadata only, and influxd 1.6.7 refuses to restore such a
 * backup (`DB metadata not changed`), so callers handle that case without `influxd restore`.
 */
export async function archiveHasShards(dir: string): Promise<boolean> {
  return (await readdir(dir)).some((name) => /\.s\d+\.tar\.gz$/.test(name));
}

export async function databaseExists(client: InfluxClient, db: string): Promise<boolean> {
  const rows = await client.rows("SHOW DATABASES");
  return rows.some((row) => row.name === db);
}

export async function dropDatabase(client: InfluxClient, db: string): Promise<void> {
  await client.query(`DROP DATABASE ${quoteIdentifier(db)}`);
}

export async function retentionPolicies(client: InfluxClient, db: string): Promise<RetentionPolicyInfo[]> {
  const rows = await client.rows(`SHOW RETENTION POLICIES ON ${quoteIdentifier(db)}`);
  return rows.map((row) => ({
    name: String(row.name),
    duration: String(row.duration),
    shardGroupDuration: String(row.shardGroupDuration),
    default: row.default === true,
  }));
}

export interface ShardInfo {
  id: number;
  rp: string;
  start: string;
  end: string;
}

export async function shards(client: InfluxClient, db: string): Promise<ShardInfo[]> {
  const [result] = await client.query("SHOW SHARDS");
  const series = result?.series?.find((entry) => entry.name === db);
  if (!series) return [];
  const column = (name: string) => series.columns.indexOf(name);
  return (series.values ?? []).map((values) => ({
    id: Number(values[column("id")]),
    rp: String(values[column("retention_policy")]),
    start: String(values[column("start_time")]),
    end: String(values[column("end_time")]),
  }));
}

/**
 * Points per retention policy and measurement. InfluxQL has no "count rows", so a measurement's
 * count is the largest per-field count: exact whenever one field is in every point, as `insert_id`
 * is in `events` and every self-metric field is in its samples.
 */
export async function countPoints(client: InfluxClient, db: string): Promise<PointCount[]> {
  const counts: PointCount[] = [];
  for (const rp of await retentionPolicies(client, db)) {
    const [result] = await client.query(`SELECT count(*) FROM ${quoteIdentifier(db)}.${quoteIdentifier(rp.name)}./.*/`);
    for (const series of result?.series ?? []) {
      const row = series.values?.[0] ?? [];
      const points = Math.max(0, ...series.columns.map((name, index) => (name.startsWith("count_") ? Number(row[index]) || 0 : 0)));
      if (points > 0 && series.name) counts.push({ rp: rp.name, measurement: series.name, points });
    }
  }
  return counts;
}

/** Right after `influxd restore` the new shards open asynchronously ("shard is disabled"): wait for them. */
export async function waitForDatabaseReadable(client: InfluxClient, db: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `restored database ${db} to open`,
    async () => {
      for (const rp of await retentionPolicies(client, db)) {
        await client.query(`SELECT count(*) FROM ${quoteIdentifier(db)}.${quoteIdentifier(rp.name)}./.*/`);
      }
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/**
 * Makes sure the live database and every retention policy of the backup exist, creating what is
 * missing with the backup's durations and default (a dropped database comes back as it was).
 * Existing policies are left as they are. Returns what was created, for the report.
 */
export async function ensureDatabase(client: InfluxClient, db: string, policies: RetentionPolicyInfo[]): Promise<string[]> {
  const created: string[] = [];
  const spec = (policy: RetentionPolicyInfo) => {
    const duration = toInfluxqlDuration(policy.duration);
    const shardDuration = toInfluxqlDuration(policy.shardGroupDuration);
    if (duration instanceof Error) throw duration;
    const shard = shardDuration instanceof Error || shardDuration === "INF" ? "" : ` SHARD DURATION ${shardDuration}`;
    return { duration, shard };
  };
  if (!(await databaseExists(client, db))) {
    const main = policies.find((policy) => policy.default) ?? policies[0];
    if (main) {
      const { duration, shard } = spec(main);
      await client.query(`CREATE DATABASE ${quoteIdentifier(db)} WITH DURATION ${duration} REPLICATION 1${shard} NAME ${quoteIdentifier(main.name)}`);
    } else {
      await client.query(`CREATE DATABASE ${quoteIdentifier(db)}`);
    }
    created.push(`database ${db}`);
  }
  const existing = new Set((await retentionPolicies(client, db)).map((policy) => policy.name));
  for (const policy of policies) {
    if (existing.has(policy.name)) continue;
    const { duration, shard } = spec(policy);
    await client.query(
      `CREATE RETENTION POLICY ${quoteIdentifier(policy.name)} ON ${quoteIdentifier(db)} DURATION ${duration} REPLICATION 1${shard}${policy.default ? " DEFAULT" : ""}`,
    );
    created.push(`retention policy ${policy.name}`);
  }
  return created;
}

/**
 * Copies every point of `from` into `into`, one shard's time range per statement (bounded memory,
 * progress per shard), `parallel` statements at a time. Rewriting a point that already exists
 * changes nothing, so this is safe to repeat and safe while the worker keeps writing.
 */
export async function mergeDatabase(
  client: InfluxClient,
  from: string,
  into: string,
  onShard: (name: string, written: number) => void,
  parallel = 2,
): Promise<number> {
  let written = 0;
  const pending = [...(await shards(client, from))];
  const mergeShard = async (shard: ShardInfo) => {
    const source = `${quoteIdentifier(from)}.${quoteIdentifier(shard.rp)}./.*/`;
    const target = `${quoteIdentifier(into)}.${quoteIdentifier(shard.rp)}.:MEASUREMENT`;
    const range = `time >= ${quoteString(shard.start)} AND time < ${quoteString(shard.end)}`;
    try {
      const [result] = await client.query(`SELECT * INTO ${target} FROM ${source} WHERE ${range} GROUP BY *`);
      const count = Number(result?.series?.[0]?.values?.[0]?.[1] ?? 0);
      written += count;
      onShard(`rp ${shard.rp} shard ${shard.id}`, count);
    } catch (error) {
      if (error instanceof InfluxError) throw new Error(`merging rp ${shard.rp} shard ${shard.id} into ${into} failed: ${error.message}`);
      throw error;
    }
  };
  const lane = async () => {
    for (let shard = pending.shift(); shard; shard = pending.shift()) await mergeShard(shard);
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  return written;
}
