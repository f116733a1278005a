import { quoteIdentifier, quoteString, type InfluxClient } from "../core/influx";
import type { OpsContext } from "./context";
import { ErasedIds, erasuresAfter, ledgerKey, listErasures } from "./erasure-ledger";
import { DEVICE_PREFIX, entryVerdict, personTest, type PersonTest } from "./person-ids";
import { erasePersonPoints, personLayouts, shardsToScan } from "./person-points";
import type { StateRecord } from "./redis-state-format";

/**
 * A restore never brings an erased person back: before anything restored reaches the live system,
 * every erasure that finished after the backup started is applied again — to the scratch database
 * the backup was restored into (before it is merged) and to the Redis records (as they are merged).
 * The ledger holds keyed hashes only, so the ids are found by hashing what the backup holds: the
 * distinct values of each identity field per shard, and the ids of the Redis records.
 */

export interface Reapplication {
  /** Erasures applied (finished after the backup started). */
  erasures: number;
  /** Points deleted from the scratch database, per measurement. */
  points: Record<string, number>;
  /** Redis records of the backup left out, or rewritten without their items. */
  redisRecords: number;
}

export class ErasureLedgerError extends Error {}

/** The erasures a backup started at `backupStartedAt` may predate, as an id test; undefined when none. */
export async function erasedSince(ctx: Pick<OpsContext, "store" | "workDir">, backupStartedAt: string): Promise<{ erased: ErasedIds; erasures: number } | undefined> {
  let records;
  try {
    records = erasuresAfter(await listErasures(ctx.store), backupStartedAt);
  } catch (error) {
    throw new ErasureLedgerError(`${(error as Error).message}; nothing was changed (a restore must know who was erased)`);
  }
  if (records.length === 0) return undefined;
  const key = await ledgerKey(ctx.store, ctx.workDir, false);
  if (!key) throw new ErasureLedgerError(`the erasure ledger in ${ctx.store.url} has records but no ledger-key; nothing was changed`);
  return { erased: new ErasedIds(key, records), erasures: records.length };
}

/** Values of one field in one shard (InfluxQL DISTINCT), as strings. */
async function distinctValues(client: InfluxClient, db: string, rp: string, measurement: string, field: string, start: string, end: string): Promise<string[]> {
  const source = `${quoteIdentifier(db)}.${quoteIdentifier(rp)}.${quoteIdentifier(measurement)}`;
  const rows = await client.rows(`SELECT DISTINCT(${quoteIdentifier(field)}) FROM ${source} WHERE time >= ${quoteString(start)} AND time < ${quoteString(end)}`, { db });
  return rows.flatMap((row) => (row.distinct === null || row.distinct === undefined ? [] : [String(row.distinct)]));
}

/**
 * The erased ids the backup's Redis records and restored database (`db`; undefined when the backup
 * has no shard) hold, in plain text (kept in memory only, for this restore).
 */
export async function erasedIdsIn(client: InfluxClient, db: string | undefined, erased: ErasedIds, records: AsyncIterable<StateRecord>): Promise<Set<string>> {
  const found = new Set<string>();
  const check = (id: string | undefined) => {
    if (id !== undefined && erased.has(id)) found.add(id);
  };
  const byHash: PersonTest = { ids: (id) => erased.has(id), text: () => false };
  for await (const record of records) {
    switch (record.type) {
      case "identity":
        check(record.device);
        check(record.user);
        break;
      case "firstSeen":
      case "profile":
        check(record.id);
        break;
      case "deadLetter":
      case "streamEntry": {
        const verdict = entryVerdict(record.fields.kind, record.fields.items, byHash);
        if (verdict.kind === "none") break;
        for (const item of verdict.theirs) {
          const { distinctId, properties = {} } = item as { distinctId?: unknown; properties?: Record<string, unknown> };
          for (const value of [distinctId, properties.$device_id, properties.$user_id]) if (value !== undefined && value !== null) check(String(value));
        }
        break;
      }
      case "group":
        break;
    }
  }
  for (const layout of db === undefined ? [] : await personLayouts(client, db)) {
    for (const shard of await shardsToScan(client, db!)) {
      for (const field of layout.fields) {
        for (const value of await distinctValues(client, db!, shard.rp, layout.measurement, field.name, shard.start, shard.end)) check(value);
      }
    }
  }
  // A device's anonymous events carry `$device:<id>`; its plain form names it in other fields.
  for (const id of [...found]) {
    if (id.startsWith(DEVICE_PREFIX)) found.add(id.slice(DEVICE_PREFIX.length));
    else found.add(`${DEVICE_PREFIX}${id}`);
  }
  for (const id of [...found]) if (!erased.has(id)) found.delete(id);
  return found;
}

/** Deletes the erased people's points from the restored (scratch) database. */
export async function reapplyToDatabase(client: InfluxClient, db: string, ids: ReadonlySet<string>): Promise<Record<string, number>> {
  if (ids.size === 0) return {};
  return (await erasePersonPoints(client, db, [...ids])).deleted;
}

/** The backup's Redis records without the erased people (dead letters and queued entries rewritten without their items). */
export async function* withoutErased(records: AsyncIterable<StateRecord>, erased: ErasedIds, ids: ReadonlySet<string>, counter: { left: number }): AsyncGenerator<StateRecord> {
  const test: PersonTest = { ids: (id) => erased.has(id), text: personTest(ids).text };
  for await (const record of records) {
    switch (record.type) {
      case "identity":
        if (erased.has(record.device) || erased.has(record.user)) {
          counter.left += 1;
          continue;
        }
        break;
      case "firstSeen":
      case "profile":
        if (erased.has(record.id)) {
          counter.left += 1;
          continue;
        }
        break;
      case "deadLetter":
      case "streamEntry": {
        const verdict = entryVerdict(record.fields.kind, record.fields.items, test);
        if (verdict.kind === "all") {
          counter.left += 1;
          continue;
        }
        if (verdict.kind === "some") {
          counter.left += 1;
          yield { ...record, fields: { ...record.fields, items: JSON.stringify(verdict.keep) } };
          continue;
        }
        break;
      }
      case "group":
        break;
    }
    yield record;
  }
}
