import { hashOffset } from "../core/line-protocol";
import type { InfluxClient } from "../core/influx";
import type { PersonIds } from "./person-ids";
import { personLayouts, pointsInShard, shardsToScan, type StoredPoint } from "./person-points";
import { readPersonRedis, type PersonRedisState } from "./person-redis";
import type { Redis } from "./redis-state";

/**
 * `mixstack export-person <distinct_id…>` (GDPR art. 15, data-subject access): everything the stack
 * holds about one person as one JSON document — their identity cluster, profiles, first-seen days,
 * events as sent (back in the shape of Mixpanel's raw export), identity merges, applied profile
 * operations, and their items in the dead letters and the queue. Written as it is read (events
 * stream shard by shard), so a person with millions of events needs no memory for them.
 */

export const EXPORT_FORMAT = "mixstack-person-export/1";

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;
/** Two events of one entry that meet move a nanosecond on; more than a few in a row do not happen. */
const MAX_PROBE = 16n;

/**
 * The event time (ms) the worker was given, from a point's nanoseconds: `time × 10⁶ + offset` with
 * the offset in [0, 10⁶), except for whole-second times, spread over their second by an offset in
 * [0, 10⁹) derived from the insert id (services/worker/schema.ts, `eventTimestamp`; a nanosecond
 * probe after a collision moves a point a few ns on). Both offsets are one hash (mod 10⁶ and mod
 * 10⁹), so a millisecond time whose millisecond equals its insert id's spread (1 in 1,000) lands on
 * the very point its whole second would: such a point reads as the whole second. No stored bit tells
 * them apart (docs/privacy.md, "Limits").
 */
export function eventTimeOf(nanos: bigint, insertId: string): number {
  const seconds = nanos / NANOS_PER_SECOND;
  const probe = (nanos % NANOS_PER_SECOND - BigInt(hashOffset(insertId, 1_000_000_000)) + NANOS_PER_SECOND) % NANOS_PER_SECOND;
  if (probe < MAX_PROBE) return Number(seconds) * 1000;
  return Number(nanos / NANOS_PER_MS);
}

/** The stored field name back to the property name sent (type suffixes, `:property`, `(empty)`). */
export function propertyNameOf(field: string): string {
  const name = field.replace(/(?::(?:string|float|integer|boolean))+$/, "").replace(/:property$/, "");
  return name === "(empty)" ? "" : name;
}

const OWN_FIELDS = new Set(["distinct_id", "insert_id", "$distinct_id_before_identity"]);
const OWN_TAGS = new Set(["event", "user_type"]);

export interface ExportedEvent {
  event: string;
  /** As sent: `time` in ms, `distinct_id` as sent, `$insert_id`, every property. */
  properties: Record<string, unknown>;
  /** What mixstack added: the id the event counts under and the new/returning tag. */
  stored: { distinct_id: string; user_type?: string; time_ns: string };
}

export function exportedEvent(point: StoredPoint): ExportedEvent {
  const { fields, tags } = point;
  const insertId = String(fields.insert_id ?? "");
  const resolved = String(fields.distinct_id ?? "");
  const sent = fields.$distinct_id_before_identity === undefined ? resolved : String(fields.$distinct_id_before_identity);
  const properties: Record<string, unknown> = { time: eventTimeOf(point.time, insertId) };
  if (sent !== "") properties.distinct_id = sent;
  properties.$insert_id = insertId;
  for (const [key, value] of Object.entries(tags)) if (!OWN_TAGS.has(key)) properties[key] = value;
  for (const [field, value] of Object.entries(fields)) if (!OWN_FIELDS.has(field)) properties[propertyNameOf(field)] = value;
  const stored: ExportedEvent["stored"] = { distinct_id: resolved, time_ns: point.time.toString() };
  if (tags.user_type !== undefined) stored.user_type = tags.user_type;
  return { event: tags.event ?? "", properties, stored };
}

function nsToIso(nanos: bigint): string {
  const ms = Number(nanos / NANOS_PER_MS);
  return new Date(ms).toISOString();
}

export interface ExportCounts {
  events: number;
  identityMerges: number;
  profileUpdates: number;
  profiles: number;
  deadLetters: number;
  queued: number;
}

/** Writes the export to `write` (JSON, pretty enough to read, one event per line). */
export async function exportPerson(
  source: { influx: InfluxClient; db: string; redis: Redis },
  person: PersonIds,
  write: (text: string) => Promise<void> | void,
  now = new Date(),
): Promise<ExportCounts> {
  const redis: PersonRedisState = await readPersonRedis(source.redis, person);
  const counts: ExportCounts = { events: 0, identityMerges: 0, profileUpdates: 0, profiles: Object.keys(redis.profiles).length, deadLetters: redis.deadLetters.length, queued: redis.queued.length };
  const json = (value: unknown) => JSON.stringify(value);
  await write(`{\n"format": ${json(EXPORT_FORMAT)},\n"exportedAt": ${json(now.toISOString())},\n"requested": ${json(person.requested)},\n`);
  await write(`"identity": ${json({ users: person.users, devices: person.devices, deviceToUser: redis.identities })},\n`);
  await write(`"profiles": ${json(redis.profiles)},\n"firstSeen": ${json(redis.firstSeen)},\n`);

  const layouts = await personLayouts(source.influx, source.db);
  const shards = await shardsToScan(source.influx, source.db);
  const sections: { name: string; measurement: string; shape: (point: StoredPoint) => unknown; count: keyof ExportCounts }[] = [
    { name: "events", measurement: "events", shape: exportedEvent, count: "events" },
    {
      name: "identityMerges",
      measurement: "identity_merges",
      shape: (point) => ({ time: nsToIso(point.time), device_id: point.fields.device_id, user_id: point.fields.user_id }),
      count: "identityMerges",
    },
    {
      name: "profileUpdates",
      measurement: "profile_updates",
      shape: (point) => ({ time: nsToIso(point.time), ...point.tags, ...point.fields }),
      count: "profileUpdates",
    },
  ];
  for (const section of sections) {
    await write(`"${section.name}": [`);
    const layout = layouts.find((candidate) => candidate.measurement === section.measurement);
    let first = true;
    if (layout) {
      for (const shard of shards) {
        for await (const page of pointsInShard(source.influx, source.db, shard, layout, person.all, "all")) {
          for (const point of page) {
            await write(`${first ? "\n" : ",\n"}${json(section.shape(point))}`);
            first = false;
            counts[section.count] += 1;
          }
        }
      }
    }
    await write(first ? "],\n" : "\n],\n");
  }
  await write(`"deadLetters": ${json(redis.deadLetters)},\n"queued": ${json(redis.queued)}\n}\n`);
  return counts;
}
