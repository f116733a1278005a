import { describe, expect, it } from "vitest";
import {
  applyRunEvent,
  initialScheduleStatus,
  scheduleHealth,
  scheduleMetricValues,
  type RunEvent,
  type ScheduleMetricValues,
} from "../../services/ops/schedule-status";

/** The scheduler's runs → health and metric values (services/ops/schedule-status.ts), with times given. */

const T0 = Date.UTC(2026, 9, 1, 3, 0, 0);
const MIN = 60_000;
const HOUR = 3600_000;
const BOUND = 6 * HOUR;

const started = (minutes: number): RunEvent => ({ kind: "started", at: T0 + minutes * MIN });
const succeeded = (minutes: number): RunEvent => ({ kind: "succeeded", at: T0 + minutes * MIN });
const failed = (minutes: number, message = "influxd backup: connection refused"): RunEvent => ({ kind: "failed", at: T0 + minutes * MIN, message });

const statusAfter = (events: RunEvent[]) => events.reduce(applyRunEvent, initialScheduleStatus);

describe("scheduler health", () => {
  it.each<[string, RunEvent[], number, string | undefined]>([
    ["before any run", [], 0, undefined],
    ["while the first run goes on", [started(0)], 30, undefined],
    ["after a successful run", [started(0), succeeded(2)], 60, undefined],
    ["after a failed run", [started(0), failed(1)], 60, "last scheduled backup, at 2026-10-01T03:01:00.000Z, failed: influxd backup: connection refused"],
    ["after two failed runs in a row", [started(0), failed(1), started(1440), failed(1441)], 1500, "last scheduled backup, at 2026-10-02T03:01:00.000Z, failed (2 failed runs in a row): influxd backup: connection refused"],
    ["while a run goes on after a failed one (the failure stands until a run succeeds)", [started(0), failed(1), started(1440)], 1450, "last scheduled backup, at 2026-10-01T03:01:00.000Z, failed: influxd backup: connection refused"],
    ["after a failed run followed by a successful one", [started(0), failed(1), started(1440), succeeded(1442)], 1500, undefined],
    ["after a success followed by a failure", [started(0), succeeded(1), started(1440), failed(1441)], 1500, "last scheduled backup, at 2026-10-02T03:01:00.000Z, failed: influxd backup: connection refused"],
    ["when a run has gone on for exactly the bound", [started(0)], 360, undefined],
    ["when a run has gone on a minute past the bound", [started(0)], 361, "backup run started at 2026-10-01T03:00:00.000Z has been running for 6 h 1 min, longer than the ops lock's 6 h"],
    ["when a run overruns after a failed one (the run in progress is named first)", [started(0), failed(1), started(1440)], 1440 + 420, "backup run started at 2026-10-02T03:00:00.000Z has been running for 7 h, longer than the ops lock's 6 h"],
    ["after an overrunning run finally succeeds", [started(0), succeeded(500)], 501, undefined],
  ])("%s", (_case, events, nowMinutes, reason) => {
    const health = scheduleHealth(statusAfter(events), T0 + nowMinutes * MIN, BOUND);
    expect(health).toEqual(reason === undefined ? { healthy: true } : { healthy: false, reason });
  });

  it.each([
    ["a multi-line message", "restore failed\n  at influxd\n  exit 1", "restore failed at influxd exit 1"],
    ["a message longer than a line", "x".repeat(1000), `${"x".repeat(299)}…`],
  ])("keeps the reason on one short line for %s", (_case, message, shown) => {
    const health = scheduleHealth(statusAfter([started(0), failed(1, message)]), T0 + 2 * MIN, BOUND);
    expect(health.healthy).toBe(false);
    expect(health.healthy === false && health.reason.split(": ").slice(1).join(": ")).toBe(shown);
  });
});

describe("scheduler metric values", () => {
  const next = T0 + 1440 * MIN;
  it.each<[string, RunEvent[], number | undefined, ScheduleMetricValues]>([
    ["before any run", [], next, { runs: { success: 0, failure: 0 }, lastSuccessSeconds: 0, lastRunDurationSeconds: 0, running: 0, nextRunSeconds: next / 1000 }],
    ["while a run goes on", [started(0)], next, { runs: { success: 0, failure: 0 }, lastSuccessSeconds: 0, lastRunDurationSeconds: 0, running: 1, nextRunSeconds: next / 1000 }],
    [
      "after a run of 90 s that succeeded",
      [started(0), { kind: "succeeded", at: T0 + 90_000 }],
      next,
      { runs: { success: 1, failure: 0 }, lastSuccessSeconds: (T0 + 90_000) / 1000, lastRunDurationSeconds: 90, running: 0, nextRunSeconds: next / 1000 },
    ],
    [
      "after a success and then a failure of 30 s (the last success stays)",
      [started(0), succeeded(2), started(1440), { kind: "failed", at: T0 + 1440 * MIN + 30_000, message: "boom" }],
      next,
      { runs: { success: 1, failure: 1 }, lastSuccessSeconds: (T0 + 2 * MIN) / 1000, lastRunDurationSeconds: 30, running: 0, nextRunSeconds: next / 1000 },
    ],
    ["with no next run", [started(0), failed(1)], undefined, { runs: { success: 0, failure: 1 }, lastSuccessSeconds: 0, lastRunDurationSeconds: 60, running: 0, nextRunSeconds: 0 }],
  ])("%s", (_case, events, nextRunAt, values) => {
    expect(scheduleMetricValues(statusAfter(events), nextRunAt)).toEqual(values);
  });
});

describe("run events", () => {
  it("count failures in a row and reset the count on success", () => {
    const counts = [started(0), failed(1), started(2), failed(3), started(4), succeeded(5), started(6), failed(7)]
      .reduce<Array<ReturnType<typeof statusAfter>>>((states, event) => [...states, applyRunEvent(states.at(-1) ?? initialScheduleStatus, event)], [])
      .map((status) => status.consecutiveFailures);
    expect(counts).toEqual([0, 1, 1, 2, 2, 0, 0, 1]);
  });

  it("never change the status they are applied to", () => {
    const before = statusAfter([started(0)]);
    const copy = structuredClone(before);
    applyRunEvent(before, failed(1));
    expect(before).toEqual(copy);
  });
});
