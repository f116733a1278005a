import { redisKeys } from "../core/queue";
import { compareStreamIds } from "./redis-state-format";
import { classifyRequested, entryVerdict, personIds, personTest, type PersonIds, type PersonTest } from "./person-ids";
import { FIRST_SEEN_KEY, type Redis } from "./redis-state";

/**
 * A person's state in Redis (docs/contracts.md, "Redis"): the identity map `mx:idmap` (device →
 * user), `mx:first_seen`, their profile hashes `mx:profile:<id>` and the index `mx:profiles`, and
 * the items of theirs in the dead letters `mx:dlq` and the queue `mx:stream`. Markers
 * (`mx:applied:*`) and the ops keys hold stream ids and indexes only, never an id of a person.
 */

const BATCH = 500;

/** A device → user pair from `identity_merges` (InfluxDB keeps them even when Redis lost its map). */
export interface MergeLink {
  device: string;
  user: string;
}

/**
 * The request's ids widened to the person's identity cluster, from the live `mx:idmap` (one HSCAN)
 * and the `identity_merges` pairs that name them (`mergesOf`).
 */
export async function resolvePerson(redis: Redis, requested: readonly string[], mergesOf: (ids: string[]) => Promise<MergeLink[]>): Promise<PersonIds> {
  const candidates = [...new Set(requested)];
  const mapped = candidates.length ? await redis.hmGet(redisKeys.identityMap, candidates) : [];
  const merges = await mergesOf(candidates);
  const knownDevices = new Set<string>();
  const userOfDevice = new Map<string, string>();
  candidates.forEach((id, index) => {
    const user = mapped[index];
    if (typeof user === "string") {
      knownDevices.add(id);
      userOfDevice.set(id, user);
    }
  });
  for (const link of merges) {
    if (candidates.includes(link.device)) {
      knownDevices.add(link.device);
      if (!userOfDevice.has(link.device)) userOfDevice.set(link.device, link.user);
    }
  }
  // `$device:<id>` names a device; look its user up too.
  const { users: namedUsers, devices: namedDevices } = classifyRequested(candidates, knownDevices);
  const unknownDevices = namedDevices.filter((device) => !userOfDevice.has(device));
  if (unknownDevices.length) {
    const users = await redis.hmGet(redisKeys.identityMap, unknownDevices);
    unknownDevices.forEach((device, index) => {
      const user = users[index];
      if (typeof user === "string") userOfDevice.set(device, user);
    });
  }
  const users = new Set([...namedUsers, ...namedDevices.flatMap((device) => (userOfDevice.has(device) ? [userOfDevice.get(device)!] : []))]);
  const devicesOfUser = new Map<string, Set<string>>();
  const addDevice = (user: string, device: string) => {
    if (!users.has(user)) return;
    if (!devicesOfUser.has(user)) devicesOfUser.set(user, new Set());
    devicesOfUser.get(user)!.add(device);
  };
  for await (const entries of redis.hScanIterator(redisKeys.identityMap, { COUNT: BATCH })) {
    for (const { field, value } of entries) addDevice(value, field);
  }
  for (const link of users.size ? await mergesOf([...users]) : []) addDevice(link.user, link.device);
  return personIds(candidates, knownDevices, { userOfDevice, devicesOfUser });
}

/** Decoded profile properties (the worker stores JSON texts). */
function decodeProps(props: Record<string, string>): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(props)) {
    try {
      decoded[key] = JSON.parse(text);
    } catch {
      decoded[key] = text;
    }
  }
  return decoded;
}

async function* streamPages(redis: Redis, key: string, end = "+"): AsyncGenerator<{ id: string; fields: Record<string, string> }[]> {
  let start = "-";
  for (;;) {
    const reply = (await redis.xRange(key, start, end, { COUNT: BATCH })) ?? [];
    const entries = reply.flatMap((entry) => (entry ? [{ id: entry.id, fields: { ...entry.message } as Record<string, string> }] : []));
    if (entries.length === 0) return;
    yield entries;
    if (entries.length < BATCH) return;
    start = `(${entries[entries.length - 1]!.id}`;
  }
}

export interface PersonRedisState {
  identities: Record<string, string>;
  firstSeen: Record<string, string>;
  profiles: Record<string, Record<string, unknown>>;
  /** Their items in dead letters, with the dead letter's id, kind and reason. */
  deadLetters: { id: string; kind: string; reason: string; items: unknown[] }[];
  /** Their items still queued for the worker. */
  queued: { id: string; kind: string; items: unknown[] }[];
}

function theirItems(fields: Record<string, string>, test: PersonTest): unknown[] | undefined {
  const verdict = entryVerdict(fields.kind, fields.items, test);
  return verdict.kind === "none" ? undefined : verdict.theirs;
}

/** Everything Redis holds about the person (for `export-person`). */
export async function readPersonRedis(redis: Redis, person: PersonIds): Promise<PersonRedisState> {
  const ids = personTest(person.all);
  const state: PersonRedisState = { identities: {}, firstSeen: {}, profiles: {}, deadLetters: [], queued: [] };
  if (person.devices.length) {
    const users = await redis.hmGet(redisKeys.identityMap, person.devices);
    person.devices.forEach((device, index) => {
      if (typeof users[index] === "string") state.identities[device] = users[index]!;
    });
  }
  const days = await redis.hmGet(FIRST_SEEN_KEY, person.all);
  person.all.forEach((id, index) => {
    if (typeof days[index] === "string") state.firstSeen[id] = days[index]!;
  });
  for (const id of person.all) {
    const props = { ...(await redis.hGetAll(redisKeys.profile(id))) } as Record<string, string>;
    if (Object.keys(props).length) state.profiles[id] = decodeProps(props);
  }
  for await (const page of streamPages(redis, redisKeys.deadLetters)) {
    for (const { id, fields } of page) {
      const items = theirItems(fields, ids);
      if (items) state.deadLetters.push({ id, kind: fields.kind ?? "?", reason: fields.reason ?? "", items });
    }
  }
  for await (const page of streamPages(redis, redisKeys.stream)) {
    for (const { id, fields } of page) {
      const items = theirItems(fields, ids);
      if (items) state.queued.push({ id, kind: fields.kind ?? "?", items });
    }
  }
  return state;
}

export interface RedisErasure {
  identities: number;
  firstSeen: number;
  profiles: number;
  deadLettersDeleted: number;
  deadLettersRewritten: number;
  deadLetterItems: number;
}

/**
 * Removes the person from Redis: their devices from the identity map, their first-seen days, their
 * profiles, and their items from the dead letters (a dead letter holding only theirs is deleted; one
 * that also holds other people's items is replaced, in one transaction, by one without theirs, so
 * `dlq replay` can never bring them back). Idempotent.
 */
export async function erasePersonRedis(redis: Redis, person: PersonIds): Promise<RedisErasure> {
  const ids = personTest(person.all);
  const result: RedisErasure = { identities: 0, firstSeen: 0, profiles: 0, deadLettersDeleted: 0, deadLettersRewritten: 0, deadLetterItems: 0 };
  // The devices, and anything of theirs stored as a device (an id mapped under their user).
  const mapped = person.all.length ? await redis.hmGet(redisKeys.identityMap, person.all) : [];
  const devices = person.all.filter((_, index) => typeof mapped[index] === "string");
  if (devices.length) result.identities = Number(await redis.hDel(redisKeys.identityMap, devices));
  if (person.all.length) result.firstSeen = Number(await redis.hDel(FIRST_SEEN_KEY, person.all));
  for (const id of person.all) {
    const transaction = redis.multi();
    transaction.del(redisKeys.profile(id));
    transaction.sRem(redisKeys.profileIndex, id);
    const [deleted] = (await transaction.exec()) as unknown as [number, number];
    result.profiles += Number(deleted);
  }
  const pages: { id: string; fields: Record<string, string> }[][] = [];
  for await (const page of streamPages(redis, redisKeys.deadLetters)) pages.push(page);
  for (const page of pages) {
    for (const { id, fields } of page) {
      const verdict = entryVerdict(fields.kind, fields.items, ids);
      if (verdict.kind === "none") continue;
      const transaction = redis.multi();
      if (verdict.kind === "some") {
        transaction.xAdd(redisKeys.deadLetters, "*", { ...fields, items: JSON.stringify(verdict.keep) });
        result.deadLettersRewritten += 1;
      } else result.deadLettersDeleted += 1;
      result.deadLetterItems += verdict.theirs.length;
      transaction.xDel(redisKeys.deadLetters, id);
      await transaction.exec();
    }
  }
  return result;
}

/** The id of the newest entry on the queue now ("0-0" when empty). */
export async function streamTail(redis: Redis): Promise<string> {
  const [last] = (await redis.xRevRange(redisKeys.stream, "+", "-", { COUNT: 1 })) ?? [];
  return last?.id ?? "0-0";
}

/** Queued entries up to `tail` that hold items of the person (they will be written after the erasure). */
export async function queuedEntriesOf(redis: Redis, person: PersonIds, tail: string): Promise<string[]> {
  if (tail === "0-0") return [];
  const ids = personTest(person.all);
  const found: string[] = [];
  for await (const page of streamPages(redis, redisKeys.stream, tail)) {
    for (const { id, fields } of page) if (entryVerdict(fields.kind, fields.items, ids).kind !== "none") found.push(id);
  }
  return found;
}

/** Whether every entry up to `tail` has left the queue (written and deleted by the worker). */
export async function queueDrainedTo(redis: Redis, tail: string): Promise<boolean> {
  const [first] = (await redis.xRange(redisKeys.stream, "-", "+", { COUNT: 1 })) ?? [];
  return !first || compareStreamIds(first.id, tail) > 0;
}
