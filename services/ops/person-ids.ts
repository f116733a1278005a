import type { EntryKind, JsonValue } from "../core/queue";

/**
 * Who one person is across the stored data: the ids a `forget` or `export-person` request names,
 * widened to their identity cluster (Mixpanel's simplified ID merge, `mx:idmap` device → user):
 * the users named or behind a named device, and every device mapped to one of those users. One hop
 * each way, never further: with "first user wins" a device has one user, and a transitive closure
 * over inconsistent data (a Redis rebuilt from another history) could pull in somebody else.
 * Pure: the links come in from Redis and `identity_merges`.
 */

export const DEVICE_PREFIX = "$device:";

export interface PersonIds {
  requested: string[];
  users: string[];
  devices: string[];
  /**
   * Every value that names them in a stored identity field or Redis key: the users, the devices and
   * their `$device:<id>` forms (mixpanel-browser's anonymous distinct_id).
   */
  all: string[];
}

export interface IdentityLinks {
  /** The user a device is mapped to, for the devices the request names. */
  userOfDevice: ReadonlyMap<string, string>;
  /** Every device mapped to a user, for the users involved. */
  devicesOfUser: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The requested ids sorted into users and devices, before the links widen them. */
export function classifyRequested(requested: readonly string[], knownDevices: ReadonlySet<string>): { users: string[]; devices: string[] } {
  const users = new Set<string>();
  const devices = new Set<string>();
  for (const id of requested) {
    if (id.startsWith(DEVICE_PREFIX) && id.length > DEVICE_PREFIX.length) devices.add(id.slice(DEVICE_PREFIX.length));
    else if (knownDevices.has(id)) devices.add(id);
    else users.add(id);
  }
  return { users: [...users], devices: [...devices] };
}

export function personIds(requested: readonly string[], knownDevices: ReadonlySet<string>, links: IdentityLinks): PersonIds {
  const first = classifyRequested(requested, knownDevices);
  const users = new Set(first.users);
  for (const device of first.devices) {
    const user = links.userOfDevice.get(device);
    if (user !== undefined) users.add(user);
  }
  const devices = new Set(first.devices);
  for (const user of users) for (const device of links.devicesOfUser.get(user) ?? []) devices.add(device);
  const all = new Set<string>([...users, ...devices]);
  for (const device of devices) all.add(`${DEVICE_PREFIX}${device}`);
  // A named id that is not known as a device may still be one that was never merged (its events carry
  // `$device_id` = id and distinct_id `$device:id`): its `$device:` form is theirs too.
  for (const id of first.users) all.add(`${DEVICE_PREFIX}${id}`);
  all.delete("");
  return { requested: [...requested], users: [...users].sort(), devices: [...devices].sort(), all: [...all].sort() };
}

/** Ids are strings; SDKs sometimes send numbers (the worker reads them the same way). */
function idOf(value: JsonValue | undefined): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** How an entry's items are judged: by id (`ids`), and, for items that cannot be read, by their text. */
export interface PersonTest {
  ids: (id: string) => boolean;
  text: (text: string) => boolean;
}

/** The test for a known set of plain ids: an unreadable text is theirs if it contains one of them. */
export function personTest(ids: Iterable<string>): PersonTest {
  const set = new Set(ids);
  set.delete("");
  const escaped = [...set].map((id) => JSON.stringify(id).slice(1, -1));
  return { ids: (id) => set.has(id), text: (text) => escaped.some((id) => text.includes(id)) };
}

/** Whether one item of a stream entry or dead letter is about the person. */
export function itemBelongs(kind: EntryKind | string, item: unknown, isTheirs: (id: string) => boolean): boolean {
  if (typeof item !== "object" || item === null) return false;
  const record = item as { distinctId?: unknown; properties?: Record<string, JsonValue> };
  if (kind === "track" || kind === "import") {
    if (typeof record.distinctId === "string" && isTheirs(record.distinctId)) return true;
    const properties = record.properties ?? {};
    const device = idOf(properties.$device_id);
    const user = idOf(properties.$user_id);
    return (device !== undefined && isTheirs(device)) || (user !== undefined && isTheirs(user));
  }
  if (kind === "engage") return typeof record.distinctId === "string" && isTheirs(record.distinctId);
  return false;
}

export type EntryVerdict =
  | { kind: "none" }
  /** `theirs`: the items, or the unreadable text as one item. */
  | { kind: "all"; theirs: unknown[] }
  | { kind: "some"; keep: unknown[]; theirs: unknown[] };

/**
 * What an entry's `items` field holds of the person. Items that cannot be read are judged by their
 * text: if it names them, the whole entry is theirs (it can never be written anyway).
 */
export function entryVerdict(kind: string | undefined, itemsText: string | undefined, test: PersonTest): EntryVerdict {
  let items: unknown;
  try {
    items = JSON.parse(itemsText ?? "");
  } catch {
    items = undefined;
  }
  if (!Array.isArray(items)) return test.text(itemsText ?? "") ? { kind: "all", theirs: [itemsText ?? ""] } : { kind: "none" };
  const keep: unknown[] = [];
  const theirs: unknown[] = [];
  for (const item of items) (itemBelongs(kind ?? "", item, test.ids) ? theirs : keep).push(item);
  if (theirs.length === 0) return { kind: "none" };
  if (keep.length === 0) return { kind: "all", theirs };
  return { kind: "some", keep, theirs };
}
