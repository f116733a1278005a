import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../services/dev/ports";
import type { BackupResult } from "../../services/ops/backup";
import { LOCK_TTL_MS } from "../../services/ops/lock";
import { scheduleMetricValues } from "../../services/ops/schedule-status";
import { startScheduler, type RunningScheduler } from "../../services/ops/scheduler";
import { schedulerRegistry } from "../../services/ops/scheduler-metrics";

/**
 * The scheduler's edge without processes: croner firing every second, a backup the test finishes
 * (or fails) when it wants, and an injected clock so that "six hours later" takes no time.
 */

/** What the scheduler logged at warn and above, one JSON line each. */
const logged: string[] = [];
const logger = pino({ level: "warn" }, { write: (line: string) => logged.push(line) });
const result = { manifest: { id: "backup-1" }, bytes: 1, removed: [] } as unknown as BackupResult;

function deferred() {
  let settle!: { resolve: (value: BackupResult) => void; reject: (error: Error) => void };
  const promise = new Promise<BackupResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, ...settle };
}

let scheduler: RunningScheduler | undefined;
let runs: Array<ReturnType<typeof deferred>> = [];
afterEach(async () => {
  // Stop scheduling first, then let the run in progress end: stop() waits for it.
  const stopping = scheduler?.stop();
  for (const run of runs) run.resolve(result);
  await stopping;
  scheduler = undefined;
  runs = [];
});

function backupOnce(): Promise<BackupResult> {
  const run = deferred();
  runs.push(run);
  return run.promise;
}

/** One sample of the registry's text format, by metric name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("startScheduler", () => {
  it("turns unhealthy when a run outlives the ops lock, and healthy again when it ends well", async () => {
    let now = Date.now();
    scheduler = startScheduler("* * * * * *", backupOnce, logger, { clock: () => now });
    const registry = schedulerRegistry(() => scheduleMetricValues(scheduler!.status(), scheduler!.next()?.getTime()));

    await waitFor("a scheduled run to start", () => scheduler!.status().runningSince !== undefined, { timeoutMs: 10_000 });
    expect(scheduler.health()).toEqual({ healthy: true });
    expect(sample(await registry.metrics(), "mixstack_backup_running")).toBe(1);

    now += LOCK_TTL_MS + 60_000;
    const overrun = scheduler.health();
    expect(overrun.healthy).toBe(false);
    expect(overrun.healthy === false && overrun.reason).toMatch(/has been running for 6 h 1 min, longer than the ops lock's 6 h$/);
    // croner's protect: the seconds that fell due meanwhile were skipped (and said so), never run beside it.
    await waitFor("a skipped run", () => logged.some((line) => line.includes("scheduled backup skipped: the previous run is still going")), { timeoutMs: 10_000 });
    expect(runs).toHaveLength(1);

    runs[0]!.resolve(result);
    await waitFor("the run to be recorded", () => scheduler!.status().succeeded === 1, { timeoutMs: 10_000 });
    expect(scheduler.health()).toEqual({ healthy: true });
    const text = await registry.metrics();
    expect(sample(text, 'mixstack_backup_runs_total{outcome="success"}')).toBe(1);
    expect(sample(text, "mixstack_backup_last_run_duration_seconds")).toBe((LOCK_TTL_MS + 60_000) / 1000);
    expect(sample(text, "mixstack_backup_last_success_timestamp_seconds")).toBe(now / 1000);
  });

  it("turns unhealthy with the error after a failed run, and serves the failure count", async () => {
    scheduler = startScheduler("* * * * * *", backupOnce, logger);
    const registry = schedulerRegistry(() => scheduleMetricValues(scheduler!.status(), scheduler!.next()?.getTime()));
    await waitFor("a scheduled run to start", () => runs.length === 1, { timeoutMs: 10_000 });
    runs[0]!.reject(new Error("another backup or restore is running"));
    await waitFor("the failure to be recorded", () => scheduler!.status().failed === 1, { timeoutMs: 10_000 });
    const health = scheduler.health();
    expect(health.healthy === false && health.reason).toMatch(/^last scheduled backup, at \S+Z, failed: another backup or restore is running$/);
    const text = await registry.metrics();
    expect([sample(text, 'mixstack_backup_runs_total{outcome="failure"}'), sample(text, 'mixstack_backup_runs_total{outcome="success"}')]).toEqual([1, 0]);
    expect(sample(text, "mixstack_backup_last_success_timestamp_seconds")).toBe(0);
    // Due within the next second or two (every-second schedule), in Unix seconds.
    expect(Math.abs(sample(text, "mixstack_backup_next_run_timestamp_seconds")! - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe("the scheduler's registry", () => {
  it("names the process metrics with the mixstack_backup_ prefix, as the worker does with its own", async () => {
    const text = await schedulerRegistry(() => scheduleMetricValues({ succeeded: 0, failed: 0, consecutiveFailures: 0 }, undefined)).metrics();
    const names = [...new Set(text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]!))];
    expect(names).toEqual(expect.arrayContaining([
      "mixstack_backup_process_cpu_seconds_total",
      "mixstack_backup_process_resident_memory_bytes",
      "mixstack_backup_nodejs_eventloop_lag_seconds",
      "mixstack_backup_runs_total",
      "mixstack_backup_last_success_timestamp_seconds",
      "mixstack_backup_last_run_duration_seconds",
      "mixstack_backup_running",
      "mixstack_backup_next_run_timestamp_seconds",
    ]));
    expect(names.filter((name) => !name.startsWith("mixstack_backup_"))).toEqual([]);
  });
});
