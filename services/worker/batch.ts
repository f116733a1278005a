import { toLine, type Point } from "../core/line-protocol";
import type { Logger } from "../core/log";
import { decodeEntry, redisKeys, type EventItem, type GroupUpdate, type ProfileUpdate, type QueueEntry, type StatsItem } from "../core/queue";
import type { FieldTypes } from "./field-types";
import { devicesToResolve, mergePairs, resolveDistinctId, type MergePair } from "./identity";
import { applyMerges, usersOfDevices } from "./identity-store";
import { earliestDays, recordFirstDays, userTypeOf, utcDay } from "./first-seen";
import type { WorkerMetrics } from "./metrics";
import { invalidProfileItem, planUpdates } from "./profile-ops";
import { applyProfileEntry, type ProfileQuotas } from "./profile-store";
import { budgetReason, type NameBudget, type NameBudgetLimits } from "./name-budget";
import type { RedisConnection } from "./redis-connection";
import { EventLineBuilder } from "./event-line";
import { reopenDays } from "../core/reopened-days";
import {
  eventTimestamp,
  invalidEventItem,
  invalidStatsItem,
  measurements,
  toMergePoint,
  toProfileUpdatePoint,
  toStatsPoint,
  type EventSchema,
  type ProfileUpdateRecord,
} from "./schema";
import type { ConsumerGroup, DeadLetter, StreamEntry } from "./stream";
import { lineBlock, type LineBlock } from "./line-block";
import type { EntryLines, PointWriter } from "./writer";

/**
 * One batch of stream entries, from reading to acknowledging:
 * 1. entries delivered too often, malformed entries and invalid items are set aside for the dead letters;
 * 2. identity merges of the whole batch are applied first (SDK batches are not in time order), then
 *    the devices of the batch are resolved to users in one HMGET;
 * 3. profile and group operations are applied in Redis (atomically, once per entry);
 * 4. the points are written (`writer.ts`), and only then
 * 5. the entries are acknowledged and deleted, dead letters added, markers dropped, in one transaction.
 * A crash anywhere before 5 leaves the entries pending: they are delivered again, land on the same
 * points, and find their Redis effects already recorded in their markers.
 */

export interface BatchDeps {
  redis: RedisConnection;
  group: ConsumerGroup;
  writer: PointWriter;
  types: FieldTypes;
  schema: EventSchema;
  metrics: WorkerMetrics;
  log: Logger;
  maxDeliveries: number;
  appliedTtlSeconds: number;
  /** Budgets of new names per day; absent: none (unit tests of other steps). */
  names?: { budget: NameBudget; limits: NameBudgetLimits };
  profileQuotas?: ProfileQuotas;
  /** A /track event received later than this after its time does not move its person's first day back. */
  firstSeenMaxLateMs?: number;
}

export interface BatchSummary {
  entries: number;
  items: number;
  events: number;
  deadLetters: number;
}

/** A batch whose Redis effects are applied and whose lines are built, not yet written. */
export interface PreparedBatch {
  ids: string[];
  started: number;
  finished: string[];
  letters: DeadLetter[];
  decoded: DecodedEntry[];
  deliveries: Map<string, number>;
  lines: EntryLines[];
  extraPoints: Record<string, number>;
  /** UTC days (`YYYY-MM-DD`) of the batch's events: reopened for the rollups once written. */
  days: Set<string>;
}

interface InvalidItem {
  index: number;
  reason: string;
  /** What of this item the reason is about (e.g. the names beyond a budget), shown for the first item of a reason. */
  detail?: string;
  item: unknown;
}

interface DecodedEntry {
  id: string;
  /** Whose `mx:applied:` marker guards the entry: its own id, or the original id of a replayed dead letter. */
  markerId: string;
  fields: Record<string, string>;
  /** The entry with its valid items; an event entry's items are let go once its lines are built (see `eventItems`). */
  entry: QueueEntry;
  /** How many valid items the entry has. */
  itemCount: number;
  /** Index in the original `items` of each valid item kept in `entry.items`. */
  indexes: number[];
  invalid: InvalidItem[];
  /** Valid items a limit kept out (a budget of new names, a profile quota): dead-lettered with the reason. */
  refused: InvalidItem[];
  /** Set once the entry needs no writing: another worker finished it. */
  gone?: boolean;
  /** Whether an apply-once script ran for it (its marker may exist). */
  marked?: boolean;
}

const MAX_REASON_LENGTH = 2000;

function invalidItemOf(kind: QueueEntry["kind"], item: unknown): string | undefined {
  switch (kind) {
    case "track":
    case "import":
      return invalidEventItem(item);
    case "engage":
    case "groups":
      return invalidProfileItem(kind, item);
    case "stats":
      return invalidStatsItem(item);
  }
}

function splitValidItems(entry: QueueEntry): { valid: unknown[]; indexes: number[]; invalid: InvalidItem[] } {
  const valid: unknown[] = [];
  const indexes: number[] = [];
  const invalid: InvalidItem[] = [];
  (entry.items as unknown[]).forEach((item, index) => {
    const reason = invalidItemOf(entry.kind, item);
    if (reason) invalid.push({ index, reason, item });
    else {
      valid.push(item);
      indexes.push(index);
    }
  });
  return { valid, indexes, invalid };
}

/** An event entry's kept items, decoded again from the entry (the same items, in the same order). */
function eventItems(item: DecodedEntry): EventItem[] {
  if (item.entry.items.length === item.itemCount) return item.entry.items as EventItem[];
  const entry = decodeEntry(item.fields);
  if (entry instanceof Error) throw entry;
  return item.indexes.map((index) => entry.items[index] as EventItem);
}

/** Takes the items at `positions` (of `item.entry.items`) out of the entry, into `item.refused` with their reasons. */
function refuseItems(item: DecodedEntry, reasons: ReadonlyMap<number, { reason: string; detail?: string }>): void {
  if (reasons.size === 0) return;
  const kept: unknown[] = [];
  const indexes: number[] = [];
  (item.entry.items as unknown[]).forEach((value, position) => {
    const why = reasons.get(position);
    if (why === undefined) {
      kept.push(value);
      indexes.push(item.indexes[position]!);
    } else item.refused.push({ index: item.indexes[position]!, ...why, item: value });
  });
  item.entry = { ...item.entry, items: kept } as QueueEntry;
  item.indexes = indexes;
  item.itemCount = kept.length;
}

function linesOf(points: readonly Point[]): string[] {
  const lines: string[] = [];
  for (const point of points) {
    const line = toLine(point);
    if (typeof line === "string") lines.push(line);
  }
  return lines;
}

function clip(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
}

export class BatchProcessor {
  private readonly lineBuilder: EventLineBuilder;

  constructor(private readonly deps: BatchDeps) {
    this.lineBuilder = new EventLineBuilder(deps.schema, deps.types);
  }

  /** `prepare` then `commit`. */
  async process(entries: readonly StreamEntry[], options: { redelivered: boolean } = { redelivered: false }): Promise<BatchSummary> {
    return this.commit(await this.prepare(entries, options));
  }

  /**
   * Steps 1-3 for entries just read (`redelivered` when they were claimed or re-read from this
   * consumer's pending list, so their delivery count matters): sorts out dead letters, applies the
   * Redis effects and builds the lines. Redis errors are thrown as they come: the entries stay pending.
   */
  async prepare(entries: readonly StreamEntry[], options: { redelivered: boolean } = { redelivered: false }): Promise<PreparedBatch> {
    const { group, maxDeliveries } = this.deps;
    const started = Date.now();
    const finished: string[] = [];
    const letters: DeadLetter[] = [];
    const decoded: DecodedEntry[] = [];
    const deliveries = options.redelivered ? await group.deliveries(entries.map((entry) => entry.id)) : new Map<string, number>();

    for (const { id, fields } of entries) {
      if (fields === null) {
        finished.push(id);
        continue;
      }
      const count = deliveries.get(id) ?? 1;
      if (count > maxDeliveries) {
        letters.push({ entryId: id, fields, reason: `delivered ${count} times without being written`, deliveries: count });
        finished.push(id);
        continue;
      }
      const entry = decodeEntry(fields);
      if (entry instanceof Error) {
        letters.push({ entryId: id, fields, reason: `malformed entry: ${entry.message}`, deliveries: count });
        finished.push(id);
        continue;
      }
      const { valid, indexes, invalid } = splitValidItems(entry);
      decoded.push({ id, markerId: fields.origin || id, fields, entry: { ...entry, items: valid } as QueueEntry, itemCount: valid.length, indexes, invalid, refused: [] });
    }

    const { lines, extraPoints, days } = await this.applyAndBuild(decoded);
    // Build the lines now, so that this CPU work overlaps the previous batch's write.
    for (const entry of lines) entry.lines();
    return { ids: entries.map((entry) => entry.id), started, finished, letters, decoded, deliveries, lines, extraPoints, days };
  }

  /**
   * Steps 4-5: writes the batch's points, then acknowledges its entries, adds its dead letters and
   * drops its markers. Throws `WriteStopped` when the worker stops while InfluxDB is unavailable, and
   * Redis errors as they come: the entries stay pending.
   */
  async commit(batch: PreparedBatch): Promise<BatchSummary> {
    const { group, metrics, log } = this.deps;
    const { started, decoded, deliveries, lines, extraPoints } = batch;
    const finished = [...batch.finished];
    const letters = [...batch.letters];
    const outcome = await this.deps.writer.write(lines);
    // After the write, before the acknowledgement: a crash in between re-delivers and marks again.
    await reopenDays(this.deps.redis, batch.days);

    const markers: string[] = [];
    const written: DecodedEntry[] = [];
    for (const item of decoded) {
      finished.push(item.id);
      const refusal = outcome.rejected.get(item.id);
      const count = deliveries.get(item.id) ?? 1;
      if (refusal !== undefined) {
        letters.push({ entryId: item.id, fields: item.fields, reason: clip(`InfluxDB refused the points: ${refusal}`), deliveries: count });
        continue;
      }
      if (item.invalid.length > 0) {
        letters.push({
          entryId: item.id,
          fields: { ...item.fields, items: JSON.stringify(item.invalid.map((invalid) => invalid.item)) },
          reason: clip(`invalid items: ${item.invalid.map((invalid) => `item ${invalid.index}: ${invalid.reason}`).join("; ")}`),
          deliveries: count,
        });
      }
      if (item.refused.length > 0) {
        // One line per reason, with how many items and the first one's detail (a flood refuses
        // thousands of items for the same reason).
        const byReason = new Map<string, { items: number; first: InvalidItem }>();
        for (const refused of item.refused) {
          const group = byReason.get(refused.reason);
          if (group) group.items += 1;
          else byReason.set(refused.reason, { items: 1, first: refused });
        }
        const lines = [...byReason].map(([reason, { items, first }]) => `${reason}: ${items} item${items === 1 ? "" : "s"}${first.detail ? `, item ${first.index}: ${first.detail}` : ""}`);
        letters.push({
          entryId: item.id,
          fields: { ...item.fields, items: JSON.stringify(item.refused.map((refused) => refused.item)) },
          reason: clip(`refused by a limit: ${lines.join("; ")}`),
          deliveries: count,
        });
      }
      if (item.gone) continue;
      if (item.marked) markers.push(redisKeys.applied(item.markerId));
      if (outcome.beyondRetention.has(item.id)) metrics.beyondRetention.inc();
      written.push(item);
    }

    const { trimmed } = await group.settle({ finished, letters, markers });
    if (trimmed > 0) {
      metrics.deadLettersTrimmed.inc(trimmed);
      log.warn({ trimmed }, "oldest dead letters dropped: mx:dlq is at WORKER_DLQ_MAX_ENTRIES / WORKER_DLQ_MAX_BYTES");
    }

    const summary: BatchSummary = { entries: batch.ids.length, items: 0, events: 0, deadLetters: letters.length };
    const points: Record<string, number> = {};
    const add = (measurement: string, count: number) => (points[measurement] = (points[measurement] ?? 0) + count);
    for (const item of written) {
      summary.items += item.itemCount;
      if (item.entry.kind === "track" || item.entry.kind === "import") {
        summary.events += item.itemCount;
        add(measurements.events, item.itemCount);
      } else if (item.entry.kind === "stats") {
        for (const stats of item.entry.items) add(stats.measurement, 1);
      }
    }
    for (const [measurement, count] of Object.entries(extraPoints)) add(measurement, count);
    metrics.recordBatch(points, summary.events, Date.now() - started);
    log.debug({ entries: summary.entries, events: summary.events, ms: Date.now() - started }, "batch done");
    metrics.entriesDone.inc({ outcome: "written" }, written.length);
    if (letters.length > 0) {
      metrics.deadLettered.inc(letters.length);
      metrics.entriesDone.inc({ outcome: "dead_letter" }, letters.length);
      log.warn({ letters: letters.map((letter) => ({ entry: letter.entryId, reason: letter.reason.slice(0, 200) })) }, "entries sent to the dead letters");
    }
    return summary;
  }

  /** Applies the Redis effects of the batch and returns its lines, with the counts of points other than events. */
  private async applyAndBuild(decoded: DecodedEntry[]): Promise<{ lines: EntryLines[]; extraPoints: Record<string, number>; days: Set<string> }> {
    const extraPoints: Record<string, number> = {};
    const count = (measurement: string, points: number) => (extraPoints[measurement] = (extraPoints[measurement] ?? 0) + points);
    const { redis, appliedTtlSeconds, types, metrics } = this.deps;
    const { lineBuilder } = this;
    const ttl = appliedTtlSeconds;

    const eventEntries = decoded.filter((item) => item.entry.kind === "track" || item.entry.kind === "import");
    // New names beyond the day's budgets first: their events change nothing, anywhere.
    if (this.deps.names && eventEntries.length > 0) {
      const { budget, limits } = this.deps.names;
      const all = eventEntries.flatMap((item) => item.entry.items as EventItem[]);
      const refusals = await budget.admit(all, utcDay(Date.now()));
      let offset = 0;
      for (const item of eventEntries) {
        const reasons = new Map<number, { reason: string; detail?: string }>();
        for (let position = 0; position < item.entry.items.length; position += 1) {
          const refusal = refusals.get(offset + position);
          if (!refusal) continue;
          const { reason, names } = budgetReason(refusal, limits);
          reasons.set(position, { reason, detail: names });
          metrics.recordRefused(refusal.kind, 1);
        }
        offset += item.entry.items.length;
        refuseItems(item, reasons);
      }
    }

    // Identity merges first, for the whole batch, in stream order (one pipelined round trip).
    const newMerges = new Map<string, MergePair[]>();
    await Promise.all(
      eventEntries.map(async (item) => {
        const pairs = mergePairs(item.entry.items as EventItem[]);
        if (pairs.length === 0) return;
        item.marked = true;
        const created = await applyMerges(redis, pairs, { entryId: item.id, markerId: item.markerId, ttlSeconds: ttl });
        if (created === "gone") item.gone = true;
        else newMerges.set(item.id, created);
      }),
    );
    const devices = new Set<string>();
    for (const item of eventEntries) if (!item.gone) for (const device of devicesToResolve(item.entry.items as EventItem[])) devices.add(device);
    const users = await usersOfDevices(redis, [...devices]);

    // Who each event is counted for, on which UTC day, and whether that is the user's first day. A
    // /track event that arrived long after its time (a broken clock, or an attempt to make someone
    // "returning") may start a person's first day, but never moves it back.
    const resolvedByEntry = new Map<string, Array<{ distinctId: string; day: string; late: boolean }>>();
    const maxLate = this.deps.firstSeenMaxLateMs;
    for (const item of eventEntries) {
      if (item.gone) continue;
      const received = item.entry.received;
      const checkLate = maxLate !== undefined && item.entry.kind === "track";
      resolvedByEntry.set(
        item.id,
        (item.entry.items as EventItem[]).map((event) => ({
          distinctId: resolveDistinctId(event, users),
          day: utcDay(event.time),
          late: checkLate && received - event.time > maxLate!,
        })),
      );
    }
    const firstDays = await recordFirstDays(redis, earliestDays([...resolvedByEntry.values()].flat()));
    const days = new Set<string>();
    for (const resolved of resolvedByEntry.values()) for (const { day } of resolved) days.add(day);

    // Profile and group operations, one atomic script per entry, in stream order.
    const profileRecords = new Map<string, ProfileUpdateRecord[]>();
    await Promise.all(
      decoded
        .filter((item) => item.entry.kind === "engage" || item.entry.kind === "groups")
        .map(async (item) => {
          const kind = item.entry.kind as "engage" | "groups";
          const updates = planUpdates(kind, item.entry.items as Array<ProfileUpdate | GroupUpdate>, item.indexes);
          item.marked = true;
          const applied = await applyProfileEntry(redis, kind === "engage" ? "user" : "group", updates, {
            entryId: item.id,
            markerId: item.markerId,
            ttlSeconds: ttl,
            quotas: this.deps.profileQuotas,
          });
          if (applied === "gone") item.gone = true;
          else {
            profileRecords.set(item.id, applied.records);
            metrics.profileOperations.inc({ kind: kind === "engage" ? "user" : "group" }, applied.records.length);
            const reasons = new Map<number, { reason: string }>();
            for (const refused of applied.refused) {
              reasons.set(item.indexes.indexOf(refused.index), { reason: quotaReason(refused.quota, this.deps.profileQuotas) });
              metrics.recordRefused("profile", 1, refused.quota);
            }
            refuseItems(item, reasons);
          }
        }),
    );

    const lines: EntryLines[] = [];
    for (const item of decoded) {
      if (item.gone || item.entry.items.length === 0) continue;
      const { entry } = item;
      if (entry.kind === "track" || entry.kind === "import") {
        let events: EventItem[] | undefined = entry.items;
        const resolved = resolvedByEntry.get(item.id)!;
        const merges = newMerges.get(item.id) ?? [];
        const mergeLines = linesOf(merges.map((pair) => toMergePoint(pair.deviceId, pair.userId, pair.time)));
        count(measurements.identityMerges, mergeLines.length);
        let built: LineBlock | undefined;
        let builtWith = -1;
        lines.push({
          id: item.id,
          lines: () => {
            // Built once; again only after a type conflict taught the field types something new.
            if (built && builtWith === types.version) return built;
            builtWith = types.version;
            events ??= eventItems(item);
            const out: string[] = [];
            let dropped = 0;
            // Two different events of this entry that would land on one point move apart; the entry is
            // always processed whole and in order, so a re-delivery moves them the same way.
            const owners = new Map<string, { series: string; insertId: string } | Array<{ series: string; insertId: string }>>();
            for (let index = 0; index < events.length; index += 1) {
              const event = events[index]!;
              const { distinctId, day } = resolved[index]!;
              const line = lineBuilder.build(event, distinctId, userTypeOf(day, firstDays.get(distinctId)));
              let timestamp = eventTimestamp(event.time, event.insertId);
              for (let probe = 1; ; probe += 1) {
                const sharing = owners.get(timestamp);
                if (sharing === undefined) {
                  owners.set(timestamp, { series: line.series, insertId: event.insertId });
                  break;
                }
                // Same nanosecond: rare, so only now compare series.
                const candidates = Array.isArray(sharing) ? sharing : [sharing];
                const owner = candidates.find((candidate) => candidate.series === line.series);
                if (owner === undefined) {
                  owners.set(timestamp, [...candidates, { series: line.series, insertId: event.insertId }]);
                  break;
                }
                if (owner.insertId === event.insertId) break;
                timestamp = eventTimestamp(event.time, event.insertId, probe);
              }
              dropped += line.droppedProperties;
              out.push(`${line.series} ${line.fields} ${timestamp}`);
            }
            if (dropped > 0) metrics.droppedProperties.inc(dropped);
            for (const line of mergeLines) out.push(line);
            built = lineBlock(out);
            // The parsed events are the bulk of a waiting batch: let them go (decoded again after a type conflict).
            events = undefined;
            item.entry = { ...item.entry, items: [] } as QueueEntry;
            return built;
          },
        });
      } else if (entry.kind === "engage" || entry.kind === "groups") {
        const records = profileRecords.get(item.id) ?? [];
        const recordLines = lineBlock(linesOf(records.map(toProfileUpdatePoint)));
        count(measurements.profileUpdates, recordLines.ends.length);
        lines.push({ id: item.id, lines: () => recordLines });
      } else {
        const statsLines = lineBlock(linesOf((entry.items as StatsItem[]).map((stats, position) => toStatsPoint(stats, `${item.markerId}:${item.indexes[position]}`))));
        lines.push({ id: item.id, lines: () => statsLines });
      }
    }
    return { lines, extraPoints, days };
  }
}

/** The reason written with an update a profile quota refused. */
function quotaReason(quota: string, quotas: ProfileQuotas | undefined): string {
  const limit = (value: number | undefined, fallback: number) => value ?? fallback;
  switch (quota) {
    case "list":
      return `profile quota: the list property would pass ${limit(quotas?.listMaxBytes, 262_144)} bytes (WORKER_PROFILE_LIST_MAX_BYTES)`;
    case "properties":
      return `profile quota: the profile would pass ${limit(quotas?.maxProperties, 2000)} properties (WORKER_PROFILE_MAX_PROPERTIES)`;
    default:
      return `profile quota: the profile would pass ${limit(quotas?.maxBytes, 1_048_576)} bytes (WORKER_PROFILE_MAX_BYTES)`;
  }
}
