/**
 * What `mixstack scheduler` knows about its own runs, and what follows from it: the container's
 * health and the values of its Prometheus metrics. Pure: times are epoch milliseconds passed in by
 * the caller (an injected clock), so every transition is a table test.
 */

export interface ScheduleStatus {
  succeeded: number;
  failed: number;
  /** Failed runs since the last success (0 once a run succeeds). */
  consecutiveFailures: number;
  /** Start of the run in progress; undefined between runs. */
  runningSince?: number;
  lastSuccessAt?: number;
  /** Duration of the last finished run, successful or not. */
  lastRunMs?: number;
  /** The last finished run, when it failed: kept until a later run succeeds. */
  lastFailure?: { at: number; message: string };
}

export type RunEvent = { kind: "started"; at: number } | { kind: "succeeded"; at: number } | { kind: "failed"; at: number; message: string };

export const initialScheduleStatus: ScheduleStatus = { succeeded: 0, failed: 0, consecutiveFailures: 0 };

export function applyRunEvent(status: ScheduleStatus, event: RunEvent): ScheduleStatus {
  switch (event.kind) {
    case "started":
      return { ...status, runningSince: event.at };
    case "succeeded":
      return {
        ...status,
        succeeded: status.succeeded + 1,
        consecutiveFailures: 0,
        runningSince: undefined,
        lastSuccessAt: event.at,
        lastRunMs: durationOf(status, event.at),
        lastFailure: undefined,
      };
    case "failed":
      return {
        ...status,
        failed: status.failed + 1,
        consecutiveFailures: status.consecutiveFailures + 1,
        runningSince: undefined,
        lastRunMs: durationOf(status, event.at),
        lastFailure: { at: event.at, message: event.message },
      };
  }
}

/** A finish without a recorded start (never from the scheduler) counts as instantaneous. */
function durationOf(status: ScheduleStatus, finishedAt: number): number {
  return status.runningSince === undefined ? 0 : Math.max(0, finishedAt - status.runningSince);
}

export type ScheduleHealth = { healthy: true } | { healthy: false; reason: string };

/** The longest message kept in a reason: the health check's output and `/healthz` stay one short line. */
const MESSAGE_CHARS = 300;

/**
 * Unhealthy while a run has lasted longer than `maxRunMs` (the ops lock's lifetime: past it the lock
 * expires and another backup may start beside the hung one), and after a failed run until a later
 * run succeeds. A run that overruns is named first: it is the one still happening.
 */
export function scheduleHealth(status: ScheduleStatus, now: number, maxRunMs: number): ScheduleHealth {
  if (status.runningSince !== undefined && now - status.runningSince > maxRunMs) {
    return {
      healthy: false,
      reason: `backup run started at ${iso(status.runningSince)} has been running for ${hours(now - status.runningSince)}, longer than the ops lock's ${hours(maxRunMs)}`,
    };
  }
  if (status.lastFailure) {
    const times = status.consecutiveFailures > 1 ? ` (${status.consecutiveFailures} failed runs in a row)` : "";
    return { healthy: false, reason: `last scheduled backup, at ${iso(status.lastFailure.at)}, failed${times}: ${oneLine(status.lastFailure.message)}` };
  }
  return { healthy: true };
}

/** The values of the scheduler's own metrics (the `mixstack_backup_` gauges and counter), in seconds. */
export interface ScheduleMetricValues {
  runs: { success: number; failure: number };
  /** 0 until a run of this process succeeds. */
  lastSuccessSeconds: number;
  /** 0 until a run of this process finishes. */
  lastRunDurationSeconds: number;
  running: 0 | 1;
  /** 0 when the schedule has no next run. */
  nextRunSeconds: number;
}

export function scheduleMetricValues(status: ScheduleStatus, nextRunAt: number | undefined): ScheduleMetricValues {
  return {
    runs: { success: status.succeeded, failure: status.failed },
    lastSuccessSeconds: status.lastSuccessAt === undefined ? 0 : status.lastSuccessAt / 1000,
    lastRunDurationSeconds: (status.lastRunMs ?? 0) / 1000,
    running: status.runningSince === undefined ? 0 : 1,
    nextRunSeconds: nextRunAt === undefined ? 0 : nextRunAt / 1000,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `6 h`, `6 h 12 min`: whole minutes are enough for a bound counted in hours. */
function hours(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const whole = ms % 3600_000 === 0;
  return whole ? `${ms / 3600_000} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  return flat.length > MESSAGE_CHARS ? `${flat.slice(0, MESSAGE_CHARS - 1)}…` : flat;
}
