import { Cron } from "croner";
import type { Logger } from "../core/log";
import type { BackupResult } from "./backup";
import { LOCK_TTL_MS } from "./lock";
import { applyRunEvent, initialScheduleStatus, scheduleHealth, type RunEvent, type ScheduleHealth, type ScheduleStatus } from "./schedule-status";

/**
 * `mixstack scheduler`: the Docker target's in-stack backup schedule (the clouds use EventBridge
 * Scheduler and Cloud Scheduler with the same cron). Runs are never overlapped; a failed run is
 * logged, recorded for `/healthz` and the metrics (schedule-status.ts), and the next one happens on
 * time.
 */

/** Validates a cron expression; the error names `BACKUP_SCHEDULE`. */
export function parseSchedule(expression: string): Error | undefined {
  try {
    new Cron(expression, { timezone: "UTC", paused: true }).stop();
    return undefined;
  } catch (error) {
    return new Error(`BACKUP_SCHEDULE ${JSON.stringify(expression)} is not a cron expression: ${(error as Error).message}`);
  }
}

export interface RunningScheduler {
  next(): Date | null;
  status(): ScheduleStatus;
  /** Healthy unless the last run failed or the current one has outlived the ops lock. */
  health(): ScheduleHealth;
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  /** Epoch milliseconds; replaced in tests. */
  clock?: () => number;
}

/** `backupOnce` opens its own connections per run, so a Redis or InfluxDB restart between runs is harmless. */
export function startScheduler(schedule: string, backupOnce: () => Promise<BackupResult>, logger: Logger, options: SchedulerOptions = {}): RunningScheduler {
  const clock = options.clock ?? Date.now;
  let status = initialScheduleStatus;
  const record = (event: RunEvent) => {
    status = applyRunEvent(status, event);
  };
  let running: Promise<unknown> = Promise.resolve();
  const job = new Cron(
    schedule,
    {
      timezone: "UTC",
      // A run still going when the next is due: that one is skipped (and said so), never overlapped.
      protect: () => logger.warn({ since: status.runningSince === undefined ? undefined : new Date(status.runningSince).toISOString() }, "scheduled backup skipped: the previous run is still going"),
    },
    async () => {
      record({ kind: "started", at: clock() });
      const run = backupOnce().then(
        (result) => {
          record({ kind: "succeeded", at: clock() });
          logger.info({ backup: result.manifest.id, bytes: result.bytes, removed: result.removed }, "scheduled backup done");
        },
        (error: Error) => {
          record({ kind: "failed", at: clock(), message: error.message });
          logger.error({ err: error }, `scheduled backup failed: ${error.message}`);
        },
      );
      running = run;
      await run;
    },
  );
  logger.info({ schedule, next: job.nextRun()?.toISOString() }, "backup scheduler started");
  return {
    next: () => job.nextRun(),
    status: () => status,
    health: () => scheduleHealth(status, clock(), LOCK_TTL_MS),
    async stop() {
      job.stop();
      await running;
    },
  };
}
