import { describe, expect, it } from "vitest";
import type { QueueEntry } from "../../services/core/queue";
import { unknownWeeks } from "../../services/ingest/history-weeks";
import { readIngestSettings } from "../../services/ingest/settings";
import { historyFloor, weekOf, weekStart } from "../../services/ingest/time";

/** How far back events may go (`MIXSTACK_TRACK_MAX_AGE_DAYS`, `MIXSTACK_HISTORY_SINCE`) and the weeks they open. */

const DAY = 86_400_000;

describe("history limits", () => {
  it("by default, /track keeps 5 days (Mixpanel's rule) and no route goes back more than two years", () => {
    const { limits } = readIngestSettings({ REDIS_URL: "redis://127.0.0.1:6379", MIXSTACK_TOKEN: "t" });
    expect(limits.trackMaxAgeMs).toBe(5 * DAY);
    const now = Date.UTC(2026, 10, 23);
    expect(new Date(historyFloor(limits.history, now)).toISOString()).toBe("2024-11-23T00:00:00.000Z");
  });

  it.each([
    ["nothing", {}, "1971-01-01T00:00:00.000Z"],
    ["a date", { sinceMs: Date.UTC(2020, 0, 1) }, "2020-01-01T00:00:00.000Z"],
    ["a date before 1971", { sinceMs: Date.UTC(1960, 0, 1) }, "1971-01-01T00:00:00.000Z"],
    ["a number of days", { maxAgeMs: 10 * DAY }, "2026-11-13T00:00:00.000Z"],
    ["both: the later wins", { sinceMs: Date.UTC(2026, 10, 20), maxAgeMs: 10 * DAY }, "2026-11-20T00:00:00.000Z"],
  ])("the floor of %s", (_name, history, floor) => {
    expect(new Date(historyFloor(history, Date.UTC(2026, 10, 23))).toISOString()).toBe(floor);
  });

  it("weeks start on Monday 00:00 UTC, as InfluxDB's 7-day shard groups do (seen: 2026-11-30 to 2026-12-07)", () => {
    const monday = Date.UTC(2026, 10, 30);
    expect(weekOf(monday)).toBe(weekOf(monday + 7 * DAY - 1));
    expect(weekOf(monday - 1)).toBe(weekOf(monday) - 1);
    expect(new Date(weekStart(weekOf(Date.UTC(2026, 11, 3, 12)))).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(new Date(weekStart(weekOf(0))).toISOString()).toBe("1969-12-29T00:00:00.000Z");
  });

  it("an entry's unknown weeks: each once, known ones and stats left out", () => {
    const now = Date.UTC(2026, 10, 25);
    const event = (time: number) => ({ event: "e", time, insertId: String(time), distinctId: "", properties: {} });
    const entry: QueueEntry = { kind: "import", received: now, items: [event(now), event(now - DAY), event(now - 7 * DAY), event(now - 8 * DAY), event(now - 70 * DAY)] };
    expect(unknownWeeks(entry, new Set([weekOf(now)])).sort()).toEqual([weekOf(now - 70 * DAY), weekOf(now - 7 * DAY)].sort());
    const profiles: QueueEntry = { kind: "engage", received: now, items: [{ distinctId: "u", time: now - 400 * DAY, ignoreTime: false, ops: { $set: { a: 1 } } }] };
    expect(unknownWeeks(profiles, new Set())).toEqual([weekOf(now - 400 * DAY)]);
    expect(unknownWeeks({ kind: "stats", received: now, items: [{ measurement: "ingest", tags: {}, fields: { n: 1 }, time: 0 }] }, new Set())).toEqual([]);
  });
});
