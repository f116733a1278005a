import { parseArgs } from "node:util";
import { z } from "zod";
import type { Command } from "../core/command";
import { redisKeys } from "../core/queue";
import { env, readSettings, withSettings } from "../core/settings";
import { createRedisConnection, type RedisConnection } from "./redis-connection";
import { parseEntries } from "./stream";

/**
 * `mixstack dlq list|replay`: the dead letters (`mx:dlq`). A dead letter keeps the entry's fields
 * (`v`, `kind`, `received`, `items`) plus `reason`, `failed_at`, `deliveries` and `entry_id`. Replay
 * puts those fields back on `mx:stream` as a new entry with `origin` = the first id it had (so that
 * its profile operations stay applied once), and deletes the dead letter, in one transaction.
 */

export interface DeadLetterView {
  id: string;
  kind: string;
  items: number;
  reason: string;
  failedAt: string;
  deliveries: number;
  entryId: string;
}

const entryFieldNames = ["v", "kind", "received", "items", "origin"];

function itemCount(items: string | undefined): number {
  try {
    const parsed = JSON.parse(items ?? "");
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}

export async function listDeadLetters(redis: RedisConnection, options: { count?: number; from?: string } = {}): Promise<DeadLetterView[]> {
  const reply = await redis.sendCommand(["XRANGE", redisKeys.deadLetters, options.from ?? "-", "+", "COUNT", String(options.count ?? 100)]);
  return parseEntries(reply).flatMap(({ id, fields }) => {
    if (!fields) return [];
    const failed = Number(fields.failed_at);
    return [
      {
        id,
        kind: fields.kind ?? "?",
        items: itemCount(fields.items),
        reason: fields.reason ?? "",
        failedAt: Number.isFinite(failed) ? new Date(failed).toISOString() : "?",
        deliveries: Number(fields.deliveries ?? 0),
        entryId: fields.entry_id ?? "",
      },
    ];
  });
}

/** Re-queues the given dead letters (all when `ids` is empty); returns the new stream ids. */
export async function replayDeadLetters(redis: RedisConnection, ids: readonly string[] = []): Promise<string[]> {
  const letters = ids.length
    ? (await Promise.all(ids.map((id) => redis.sendCommand(["XRANGE", redisKeys.deadLetters, id, id])))).flatMap(parseEntries)
    : parseEntries(await redis.sendCommand(["XRANGE", redisKeys.deadLetters, "-", "+"]));
  const replayed: string[] = [];
  for (const { id, fields } of letters) {
    if (!fields) continue;
    const entry: Record<string, string> = {};
    for (const name of entryFieldNames) if (fields[name] !== undefined) entry[name] = fields[name]!;
    if (!entry.origin && fields.entry_id) entry.origin = fields.entry_id;
    const transaction = redis.multi();
    transaction.addCommand(["XADD", redisKeys.stream, "*", ...Object.entries(entry).flat()]);
    transaction.addCommand(["XDEL", redisKeys.deadLetters, id]);
    const [newId] = (await transaction.exec()) as unknown as [string];
    replayed.push(String(newId));
  }
  return replayed;
}

/** A stream entry id, as `dlq list` prints them. */
const STREAM_ID = /^\d+-\d+$/;

const dlqSchema = z.object({ REDIS_URL: env.url() });

function table(rows: DeadLetterView[]): string {
  if (rows.length === 0) return "no dead letters\n";
  const header = ["id", "failed at", "kind", "items", "deliveries", "reason"];
  const cells = rows.map((row) => [row.id, row.failedAt, row.kind, String(row.items), String(row.deliveries), row.reason.replace(/\s+/g, " ").slice(0, 160)]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const format = (cell: string[]) => cell.map((value, column) => (column === cell.length - 1 ? value : value.padEnd(widths[column]!))).join("  ");
  return `${[format(header), ...cells.map(format)].join("\n")}\n`;
}

const usage = [
  "usage: mixstack dlq list [--count N] [--json]",
  "       mixstack dlq replay (--all | ID...)",
  "",
  "Reads REDIS_URL. `list` shows the oldest dead letters first; `replay` puts them back on the stream.",
].join("\n");

export const dlqCommand: Command = {
  summary: "list or replay the dead letters (entries the worker could not write)",
  usage,
  run: (argv) => withSettings(() => readSettings("dlq", dlqSchema), (settings) => runDlq(settings, argv)),
};

async function runDlq(settings: z.infer<typeof dlqSchema>, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { count: { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" } },
    });
  } catch (error) {
    process.stderr.write(`mixstack dlq: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [action, ...ids] = positionals;
  if (action !== "list" && action !== "replay") {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  if (action === "replay" && !values.all && ids.length === 0) {
    process.stderr.write("mixstack dlq replay: name the dead letters to replay, or --all\n");
    return 2;
  }
  const badId = ids.find((id) => !STREAM_ID.test(id));
  if (action === "replay" && badId !== undefined) {
    process.stderr.write(`mixstack dlq replay: "${badId}" is not a dead letter id (ids look like 1700000000000-0; see dlq list)\n`);
    return 2;
  }
  const count = values.count === undefined ? 100 : Number(values.count);
  if (!Number.isInteger(count) || count <= 0) {
    process.stderr.write(`mixstack dlq list: --count must be a positive integer (got ${values.count})\n`);
    return 2;
  }
  const redis = createRedisConnection(settings.REDIS_URL, undefined, "dlq", { persistent: false });
  redis.on("error", () => undefined);
  await redis.connect();
  try {
    if (action === "list") {
      const rows = await listDeadLetters(redis, { count });
      process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
    } else {
      const replayed = await replayDeadLetters(redis, values.all ? [] : ids);
      process.stdout.write(`replayed ${replayed.length} dead letter${replayed.length === 1 ? "" : "s"}\n`);
    }
    return 0;
  } finally {
    await redis.close();
  }
}
