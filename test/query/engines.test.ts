import { describe, expect, it } from "vitest";
import { makeBuckets, reportRange, type Buckets } from "../../services/query/buckets";
import { FunnelEngine } from "../../services/query/reports/funnel";
import { TimeZone } from "../../services/query/time-zone";

/** The funnel engine's cases the integration brute force does not cover: `any` order, reused attempts, the look-back cap. */

const zone = new TimeZone("UTC");
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1, 10);
const buckets = makeBuckets(reportRange({ year: 2026, month: 10, day: 1 }, { year: 2026, month: 10, day: 3 }, zone), { unit: "day" }, zone, 100) as Buckets;
const steps = [{ event: "A" }, { event: "B" }, { event: "C" }];
const bit = { A: 1, B: 2, C: 4 } as const;

function run(order: "sequential" | "any", events: Array<[number, keyof typeof bit, number]>) {
  const engine = new FunnelEngine({ steps, windowMs: DAY, order, buckets, maxStates: 1_000 });
  for (const [person, name, offset] of events) engine.event(person, T0 + offset, bit[name], undefined);
  const answer = engine.answer({ breakdown: false, limit: 10 });
  return Object.fromEntries(Object.entries(answer.data).map(([date, entry]) => [date, (entry as { steps: Array<{ count: number }> }).steps.map((step) => step.count)]));
}

describe("funnel engine", () => {
  it("any order: the steps after the first count in either order; sequential does not", () => {
    const events: Array<[number, keyof typeof bit, number]> = [[1, "A", 0], [1, "C", 10_000], [1, "B", 20_000]];
    expect(run("any", events)["2026-10-01"]).toEqual([1, 1, 1]);
    expect(run("sequential", events)["2026-10-01"]).toEqual([1, 1, 0]);
  });

  it("attempts reused day after day keep each day's funnel apart (no step of one attempt leaks into the next)", () => {
    const events: Array<[number, keyof typeof bit, number]> = [];
    // Person 1 converts fully on day 1, enters on day 2, and on day 3 enters again and converts: the
    // day-3 steps are within the day-2 attempt's 1-day window too, so both days' funnels convert.
    // Person 2 enters on day 2 and reaches step 2.
    events.push([1, "A", 0], [1, "B", 1_000_000], [1, "C", 1_100_000]);
    events.push([1, "A", DAY + 50_000], [2, "A", DAY + 60_000], [2, "B", DAY + 70_000]);
    events.push([1, "A", 2 * DAY + 5], [1, "B", 2 * DAY + 3_000], [1, "C", 2 * DAY + 9_000]);
    expect(run("sequential", events)).toEqual({ "2026-10-01": [1, 1, 1], "2026-10-02": [2, 2, 1], "2026-10-03": [1, 1, 1] });
  });

  it("the grace look-back uses each event once", () => {
    // B 1 s before A counts as step 2; the same B cannot also be step 3 of a B→B funnel.
    const engine = new FunnelEngine({ steps: [{ event: "A" }, { event: "B" }, { event: "B" }], windowMs: DAY, order: "sequential", buckets, maxStates: 1_000 });
    engine.event(1, T0, 2 | 4, undefined);
    engine.event(1, T0 + 1_000, 1, undefined);
    const day = engine.answer({ breakdown: false, limit: 1 }).data["2026-10-01"] as { steps: Array<{ count: number }> };
    expect(day.steps.map((step) => step.count)).toEqual([1, 1, 0]);
  });
});
