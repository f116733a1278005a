import { FingerprintSet, FingerprintTable, fingerprintInto } from "./fingerprint";
import type { DayNumber } from "./activity-window";

/**
 * Everything the rollups need to know about one UTC day, gathered in one pass over its events as
 * InfluxDB returns them grouped by series (every tag: `GROUP BY *`). Pure: fed rows, no I/O.
 */

export const MS_PER_DAY = 86_400_000;
export const MS_PER_HOUR = 3_600_000;

/**
 * Sign-up events under their usual spellings (`signup`, `Sign Up`, `sign_up`, `Signed Up`...) and
 * nothing longer: `signup_page_viewed` is not a sign-up (docs/dashboards.md).
 */
export const SIGNUP_EVENT = /^sign(ed)?[ _-]?up$/i;

/** The `user_type` tag of the worker (`new`/`returning`); "" for events without one. */
export const USER_TYPE_TAG = "user_type";

/** The tag that names which property a `rollup_breakdowns` point breaks events down by. */
export const BREAKDOWN_TAG = "breakdown";

export interface HourCounts {
  /** The rollup point's tags (absent values left out). */
  tags: Record<string, string>;
  /** Events per hour of the day. */
  counts: Uint32Array;
}

export interface DayFacts {
  day: DayNumber;
  /** Events, anonymous ones included. */
  events: number;
  /** People (non-empty `distinct_id`) active on the day, as fingerprints `[high, low, ...]`. */
  people: Uint32Array;
  /** People with a sign-up event on the day. */
  signups: Uint32Array;
  /** `user_type` value ("" when absent) -> distinct people. */
  userTypes: Map<string, number>;
  /** Event name -> events and distinct people. */
  perEvent: Map<string, { events: number; users: number }>;
  /** Event name -> events per hour. */
  hours: Map<string, HourCounts>;
  /**
   * Events per hour for each event name, tag of `events` (but the name) and value of that tag: the
   * point carries `event`, `breakdown` = the tag's key, and the tag itself (absent when the events
   * had no value), so that `GROUP BY "<key>"` groups them as it groups `events`.
   */
  breakdowns: Map<string, HourCounts>;
}

/** Collects a day's facts from chunks of `SELECT "distinct_id" FROM "events" ... GROUP BY *` (times in ms). */
export class DayFactsCollector {
  private events = 0;
  private readonly userTypeBits = new Map<string, number>();
  /** Fingerprint -> bit mask of the user types the person had: one entry per person of the day. */
  private readonly people = new FingerprintTable();
  private readonly signups = new FingerprintSet();
  private readonly perEvent = new Map<string, { events: number; people: FingerprintSet }>();
  private readonly hours = new Map<string, HourCounts>();
  private readonly breakdowns = new Map<string, HourCounts>();
  private readonly scratch = new Uint32Array(2);
  private readonly dayStart: number;

  constructor(readonly day: DayNumber) {
    this.dayStart = day * MS_PER_DAY;
  }

  /** One chunk of one series: its tags, and rows of `[time ms, distinct_id]`. */
  add(tags: Readonly<Record<string, string>>, rows: readonly unknown[][], idColumn = 1): void {
    const event = tags.event ?? "";
    const hourCounts = [this.counts(this.hours, JSON.stringify([event]), { event })];
    for (const [key, value] of Object.entries(tags)) {
      if (key === "event" || key === BREAKDOWN_TAG) continue;
      const pointTags: Record<string, string> = { event, [BREAKDOWN_TAG]: key };
      if (value !== "") pointTags[key] = value;
      hourCounts.push(this.counts(this.breakdowns, JSON.stringify([event, key, value]), pointTags));
    }
    let perEvent = this.perEvent.get(event);
    if (!perEvent) {
      perEvent = { events: 0, people: new FingerprintSet() };
      this.perEvent.set(event, perEvent);
    }
    const userType = tags[USER_TYPE_TAG] ?? "";
    let bit = this.userTypeBits.get(userType);
    if (bit === undefined) {
      if (this.userTypeBits.size >= 31) throw new Error(`more than 31 values of the ${USER_TYPE_TAG} tag on one day`);
      bit = 1 << this.userTypeBits.size;
      this.userTypeBits.set(userType, bit);
    }
    const isSignup = SIGNUP_EVENT.test(event);
    const { scratch } = this;
    for (const row of rows) {
      const time = Number(row[0]);
      const hour = Math.floor((time - this.dayStart) / MS_PER_HOUR);
      if (hour < 0 || hour > 23) continue; // not this day's (InfluxDB answered a wider range)
      for (const counts of hourCounts) counts.counts[hour]! += 1;
      perEvent.events += 1;
      this.events += 1;
      const id = row[idColumn];
      if (typeof id !== "string" || id === "") continue;
      fingerprintInto(id, scratch, 0);
      const high = scratch[0]!;
      const low = scratch[1]!;
      const mask = this.people.get(high, low, 0);
      if ((mask & bit) === 0) this.people.set(high, low, mask | bit, 0);
      perEvent.people.add(high, low);
      if (isSignup) this.signups.add(high, low);
    }
  }

  private counts(into: Map<string, HourCounts>, key: string, tags: Record<string, string>): HourCounts {
    let found = into.get(key);
    if (!found) {
      found = { tags, counts: new Uint32Array(24) };
      into.set(key, found);
    }
    return found;
  }

  finish(): DayFacts {
    const people = new Uint32Array(this.people.size * 2);
    const typeCounts = new Map<string, number>([...this.userTypeBits.keys()].map((name) => [name, 0]));
    const bits = [...this.userTypeBits];
    let at = 0;
    this.people.forEach((high, low, mask) => {
      people[at++] = high;
      people[at++] = low;
      for (const [name, bit] of bits) if (mask & bit) typeCounts.set(name, typeCounts.get(name)! + 1);
    });
    // A user type seen only on anonymous events has no people: not a series of its own.
    for (const [name, count] of typeCounts) if (count === 0) typeCounts.delete(name);
    const perEvent = new Map([...this.perEvent].map(([event, { events, people: ids }]) => [event, { events, users: ids.size }]));
    return { day: this.day, events: this.events, people, signups: this.signups.toArray(), userTypes: typeCounts, perEvent, hours: this.hours, breakdowns: this.breakdowns };
  }
}
