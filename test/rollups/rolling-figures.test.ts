import { describe, expect, it } from "vitest";
import { seededRandom } from "../../services/dev/seeded-random";
import { ActivityWindow } from "../../services/worker/rollup/activity-window";
import { DayFactsCollector, MS_PER_DAY, MS_PER_HOUR } from "../../services/worker/rollup/day-facts";
import { FingerprintSet, FingerprintTable, fingerprintInto } from "../../services/worker/rollup/fingerprint";
import { RECENT_DAYS, RollupEngine, keptDay, type KeptDay } from "../../services/worker/rollup/rollup-engine";
import { dayDetailPoints, dayPoints, mondayOf, type DayFigures } from "../../services/worker/rollup/rollup-points";

/**
 * The rollup job's arithmetic without InfluxDB or Redis: rolling figures folded from fingerprints
 * must equal the distinct counts of plain string sets, however the days are split between the
 * engine's base and its recent days.
 */

function fingerprints(ids: Iterable<string>): Uint32Array {
  const set = new FingerprintSet();
  const scratch = new Uint32Array(2);
  for (const id of ids) {
    fingerprintInto(id, scratch, 0);
    set.add(scratch[0]!, scratch[1]!);
  }
  return set.toArray();
}

/** 70 days of activity for a few thousand people, with quiet days and sign-ups. */
function history(seed: number, days = 70, people = 3000) {
  const random = seededRandom(seed);
  const active: Array<Set<string>> = [];
  const signedUp: Array<Set<string>> = [];
  for (let day = 0; day < days; day += 1) {
    const quiet = day % 17 === 5;
    const ids = new Set<string>();
    const signups = new Set<string>();
    for (let person = 0; person < people; person += 1) {
      if (quiet) break;
      // Each person has a first day and an activity of their own.
      const first = (person * 7919) % days;
      if (day < first || random() > 0.05 + (person % 10) / 25) continue;
      ids.add(`person-${person}`);
      if (day === first && person % 3 === 0) signups.add(`person-${person}`);
      if (person % 97 === 0 && random() < 0.2) signups.add(`person-${person}`);
    }
    active.push(ids);
    signedUp.push(signups);
  }
  return { active, signedUp };
}

const START = 19_800; // a Monday? not needed: mondayOf decides.

function bruteForce(active: Array<Set<string>>, signedUp: Array<Set<string>>, index: number): Omit<DayFigures, "events"> {
  const union = (sets: Array<Set<string>>, from: number) => {
    const all = new Set<string>();
    for (let at = Math.max(0, from); at <= index; at += 1) for (const id of sets[at]!) all.add(id);
    return all.size;
  };
  const day = START + index;
  const mau = union(active, index - 29);
  let dauSum = 0;
  for (let at = Math.max(0, index - 29); at <= index; at += 1) dauSum += active[at]!.size;
  return {
    day,
    dau: active[index]!.size,
    wau: union(active, index - 6),
    mau,
    wtd: union(active, index - (day - mondayOf(day))),
    stickiness: mau === 0 ? 0 : dauSum / 30 / mau,
    signups: signedUp[index]!.size,
    signups7d: union(signedUp, index - 6),
  };
}

function kept(active: Array<Set<string>>, signedUp: Array<Set<string>>, index: number): KeptDay {
  return { day: START + index, events: index, people: fingerprints(active[index]!), signups: fingerprints(signedUp[index]!) };
}

const withoutEvents = ({ events: _events, ...rest }: DayFigures) => rest;

describe("rolling figures", () => {
  const { active, signedUp } = history(7);

  it("folded day by day into the base, every day's DAU, WAU, MAU, week to date, stickiness and 7-day sign-ups are the exact distinct counts", () => {
    const engine = new RollupEngine();
    engine.startAt(START - 1);
    for (let index = 0; index < active.length; index += 1) {
      const figures = engine.settle(kept(active, signedUp, index));
      expect(withoutEvents(figures)).toEqual(bruteForce(active, signedUp, index));
    }
  });

  it("split between a settled base and recent days (as each round does), the figures are the same, and the base is not changed by reading them", () => {
    const engine = new RollupEngine();
    engine.startAt(START - 1);
    const today = active.length - 1;
    for (let index = 0; index <= today; index += 1) {
      if (index < today - RECENT_DAYS) engine.settle(kept(active, signedUp, index));
      else engine.keep(kept(active, signedUp, index));
    }
    for (let round = 0; round < 2; round += 1) {
      const figures = engine.recentFigures();
      expect(figures.map((one) => one.day)).toEqual(Array.from({ length: RECENT_DAYS + 1 }, (_, at) => START + today - RECENT_DAYS + at));
      for (const one of figures) expect(withoutEvents(one)).toEqual(bruteForce(active, signedUp, one.day - START));
    }
    // A late event on a recent day: only that day is read again.
    const late = new Set([...active[today - 2]!, "late-person"]);
    active[today - 2] = late;
    engine.keep(kept(active, signedUp, today - 2));
    for (const one of engine.recentFigures()) expect(withoutEvents(one)).toEqual(bruteForce(active, signedUp, one.day - START));
    engine.settleBefore(START + today + 3);
    expect(engine.baseThrough).toBe(START + today + 3 - RECENT_DAYS - 1);
  });

  it("a rebuild from the 29 days before a day gives that day and the next the same figures as folding from the start", () => {
    const engine = new RollupEngine();
    const from = 45;
    engine.startAt(START + from - 30);
    for (let index = from - 29; index < from; index += 1) engine.settle(kept(active, signedUp, index));
    for (let index = from; index < active.length; index += 1) {
      expect(withoutEvents(engine.settle(kept(active, signedUp, index)))).toEqual(bruteForce(active, signedUp, index));
    }
  });

  it("refuses days out of order instead of counting wrong", () => {
    const window = new ActivityWindow();
    window.add(10, fingerprints(["a"]));
    expect(() => window.add(10, fingerprints(["b"]))).toThrow(/folded after/);
    const engine = new RollupEngine();
    engine.startAt(100);
    expect(() => engine.settle({ day: 102, events: 0, people: new Uint32Array(0), signups: new Uint32Array(0) })).toThrow(/settled after/);
  });

  it("keeps memory to the people of the last 30 days: people gone for longer are dropped from the table", () => {
    const window = new ActivityWindow();
    for (let day = 0; day < 10; day += 1) window.add(day, fingerprints(Array.from({ length: 5000 }, (_, n) => `old-${n}`)));
    expect(window.people).toBe(5000);
    for (let day = 10; day < 60; day += 1) window.add(day, fingerprints(Array.from({ length: 100 }, (_, n) => `new-${n}`)));
    expect(window.people).toBeLessThan(2000);
    expect(window.activeSince(60 - 29)).toBe(100);
  });
});

describe("fingerprints", () => {
  it("a table grows, keeps every value, and a clone is independent", () => {
    const table = new FingerprintTable(4);
    const scratch = new Uint32Array(2);
    for (let n = 0; n < 20_000; n += 1) {
      fingerprintInto(`id-${n}`, scratch, 0);
      expect(table.set(scratch[0]!, scratch[1]!, n)).toBe(-1);
    }
    expect(table.size).toBe(20_000);
    const copy = table.clone();
    fingerprintInto("id-7", scratch, 0);
    copy.set(scratch[0]!, scratch[1]!, -7);
    expect(table.get(scratch[0]!, scratch[1]!)).toBe(7);
    expect(copy.get(scratch[0]!, scratch[1]!)).toBe(-7);
    table.retain((value) => value % 2 === 0);
    expect(table.size).toBe(10_000);
    expect(table.get(scratch[0]!, scratch[1]!)).toBe(-1);
  });

  it("200,000 different ids give 200,000 different fingerprints, the same id the same one", () => {
    const ids = Array.from({ length: 200_000 }, (_, n) => (n % 2 ? `user-${n}` : `${n}@example.com`));
    expect(fingerprints(ids).length / 2).toBe(200_000);
    expect(fingerprints([...ids, ...ids.slice(0, 1000)]).length / 2).toBe(200_000);
    // The tail of odd lengths and non-ASCII ids are hashed too.
    expect(fingerprints(["ü", "ü ", "a", "ab", "abc", "日本"]).length / 2).toBe(6);
  });
});

describe("a day's facts from InfluxDB's rows", () => {
  const day = 19_890;
  const start = day * MS_PER_DAY;
  const tags = (event: string, os: string, userType: string) => ({ $os: os, event, mp_lib: "web", user_type: userType });

  it("counts events, people, people per event and per user type, sign-ups, and events per hour and per tag value", () => {
    const collector = new DayFactsCollector(day);
    collector.add(tags("view", "Linux", "new"), [
      [start, "a"],
      [start + 1, "a"],
      [start + MS_PER_HOUR * 5, "b"],
      [start + MS_PER_HOUR * 5 + 2, ""],
    ]);
    collector.add(tags("view", "", "returning"), [[start + MS_PER_DAY - 1, "c"]]);
    collector.add(tags("Sign Up", "Linux", "new"), [[start + 10, "a"]]);
    collector.add(tags("signup_page_viewed", "Linux", "new"), [[start + 11, "b"]]);
    // Rows outside the day (InfluxDB never sends them; a wider query could) are not this day's.
    collector.add(tags("view", "Linux", "new"), [[start - 1, "z"], [start + MS_PER_DAY, "z"]]);
    const facts = collector.finish();
    expect(facts.events).toBe(7);
    expect(facts.people.length / 2).toBe(3);
    expect(facts.signups.length / 2).toBe(1);
    expect(facts.userTypes).toEqual(new Map([["new", 2], ["returning", 1]]));
    expect(facts.perEvent).toEqual(
      new Map([
        ["view", { events: 5, users: 3 }],
        ["Sign Up", { events: 1, users: 1 }],
        ["signup_page_viewed", { events: 1, users: 1 }],
      ]),
    );
    expect([...facts.hours.get(JSON.stringify(["view"]))!.counts]).toEqual([2, 0, 0, 0, 0, 2, ...Array(17).fill(0), 1]);
    const byOs = facts.breakdowns.get(JSON.stringify(["view", "$os", "Linux"]))!;
    expect(byOs.tags).toEqual({ event: "view", breakdown: "$os", $os: "Linux" });
    // Events without the property break down under an absent tag, as `GROUP BY` shows them.
    expect(facts.breakdowns.get(JSON.stringify(["view", "$os", ""]))!.tags).toEqual({ event: "view", breakdown: "$os" });
  });
});

describe("rollup points", () => {
  const figures: DayFigures = { day: 19_890, dau: 3, wau: 5, mau: 9, wtd: 4, stickiness: 0.25, signups: 1, signups7d: 2, events: 40 };
  const ms = (timestamp: string | undefined) => Number(BigInt(timestamp!) / 1_000_000n);

  it("a closed day sits at its first and its last millisecond, the open day at its first only", () => {
    const start = figures.day * MS_PER_DAY;
    expect(dayPoints(figures, true).map((point) => ms(point.timestamp))).toEqual([start, start + MS_PER_DAY - 1]);
    expect(dayPoints(figures, false).map((point) => ms(point.timestamp))).toEqual([start]);
  });

  it("a closed hour's count sits at its last millisecond with a 0 at its first; the open hour's at its first", () => {
    const collector = new DayFactsCollector(figures.day);
    const start = figures.day * MS_PER_DAY;
    collector.add({ event: "view" }, [[start + 10, "a"], [start + MS_PER_HOUR + 10, "a"], [start + MS_PER_HOUR + 20, "b"]]);
    const now = start + MS_PER_HOUR + 30 * 60_000;
    const points = dayDetailPoints(collector.finish(), false, now).filter((point) => point.measurement === "rollup_hours");
    expect(points.map((point) => [ms(point.timestamp), Number(String((point.fields.events as { value: unknown }).value))])).toEqual([
      [start, 0],
      [start + MS_PER_HOUR - 1, 1],
      [start + MS_PER_HOUR, 2],
    ]);
  });

  it("weeks start on Monday", () => {
    // 2024-06-10 was a Monday, 2024-06-16 a Sunday.
    const monday = Date.UTC(2024, 5, 10) / MS_PER_DAY;
    for (let day = monday; day < monday + 7; day += 1) expect(mondayOf(day)).toBe(monday);
    expect(mondayOf(monday + 7)).toBe(monday + 7);
  });

  it("keptDay keeps the people and sign-ups, not the per-hour detail", () => {
    const collector = new DayFactsCollector(5);
    collector.add({ event: "signup" }, [[5 * MS_PER_DAY, "a"]]);
    const facts = collector.finish();
    expect(Object.keys(keptDay(facts)).sort()).toEqual(["day", "events", "people", "signups"]);
  });
});
