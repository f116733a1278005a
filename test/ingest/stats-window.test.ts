import { describe, expect, it } from "vitest";
import { StatsWindow } from "../../services/ingest/stats-window";

describe("StatsWindow", () => {
  it("sums requests by route and status and rejects by route and reason", () => {
    const window = new StatsWindow();
    window.recordRequest("track", 200, 50, 1);
    window.recordRequest("track", 200, 10, 0);
    window.recordRequest("track", 503, 0, 5);
    window.recordRejects("track", "missing_token", 1);
    window.recordRejects("track", "queue_unavailable", 5);
    expect(window.drain(1000)).toEqual([
      { measurement: "ingest", tags: { route: "track", status: "200" }, fields: { requests: 2, events_accepted: 60, events_rejected: 1 }, time: 1000 },
      { measurement: "ingest", tags: { route: "track", status: "503" }, fields: { requests: 1, events_accepted: 0, events_rejected: 5 }, time: 1000 },
      { measurement: "ingest_rejects", tags: { route: "track", reason: "missing_token" }, fields: { count: 1 }, time: 1000 },
      { measurement: "ingest_rejects", tags: { route: "track", reason: "queue_unavailable" }, fields: { count: 5 }, time: 1000 },
    ]);
    expect(window.empty).toBe(true);
    expect(window.drain(2000)).toEqual([]);
  });

  it("keeps counts that could not be flushed for the next window", () => {
    const window = new StatsWindow();
    window.recordRequest("engage", 200, 3, 0);
    window.recordRejects("engage", "missing_token", 2);
    const unsent = window.drain(1000);
    window.recordRequest("engage", 200, 1, 0);
    window.restore(unsent);
    expect(window.drain(2000)).toEqual([
      { measurement: "ingest", tags: { route: "engage", status: "200" }, fields: { requests: 2, events_accepted: 4, events_rejected: 0 }, time: 2000 },
      { measurement: "ingest_rejects", tags: { route: "engage", reason: "missing_token" }, fields: { count: 2 }, time: 2000 },
    ]);
  });
});
