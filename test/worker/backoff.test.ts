import { describe, expect, it } from "vitest";
import { backoffDelay, pause } from "../../services/worker/backoff";

describe("backoffDelay (InfluxDB retries)", () => {
  const noJitter = () => 0;
  const fullJitter = () => 1;

  it.each([
    [0, 200],
    [1, 400],
    [2, 800],
    [3, 1600],
    [4, 3200],
    [5, 5000],
    [40, 5000],
    [-1, 200],
  ])("attempt %i waits %i ms without jitter: doubling from the minimum, capped at the maximum", (attempt, expected) => {
    expect(backoffDelay(attempt, 200, 5000, noJitter)).toBe(expected);
  });

  it.each([
    [0, 160],
    [3, 1280],
    [9, 4000],
  ])("attempt %i takes at most 20 %% off (%i ms) so that workers do not retry in lockstep", (attempt, expected) => {
    expect(backoffDelay(attempt, 200, 5000, fullJitter)).toBe(expected);
  });

  it("stays within [80 %, 100 %] of the exponential delay with real randomness", () => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const exponential = Math.min(5000, 200 * 2 ** attempt);
      const delay = backoffDelay(attempt, 200, 5000);
      expect(delay).toBeGreaterThanOrEqual(Math.round(exponential * 0.8));
      expect(delay).toBeLessThanOrEqual(exponential);
    }
  });
});

describe("pause", () => {
  it("ends early when the worker stops (abort), instead of holding the shutdown for the whole delay", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const waiting = pause(600_000, abort.signal);
    abort.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("returns at once when already aborted", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(pause(600_000, abort.signal)).resolves.toBeUndefined();
  });
});
