import { Cron } from "croner";
import type { Logger } from "../core/log";
import type { BackupResult } from "./backup";

/**
 * `mixstack scheduler`: the Docker target's in-stack backup schedule (the clouds use EventBridge
 * Scheduler and Cloud Scheduler with the same cron). Runs are never overlapped; a failed run is
 * logged and the next one happens on time.
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
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/** `backupOnce` opens its own connections per run, so a Redis or InfluxDB restart between runs is harmless. */
export function startScheduler(schedule: string, backupOnce: () => Promise<BackupResult>, logger: Logger): RunningScheduler {
  let running: Promise<unknown> = Promise.resolve();
  const job = new Cron(schedule, { timezone: "UTC", protect: true }, async () => {
    const run = backupOnce().then(
      (result) => logger.info({ backup: result.manifest.id, bytes: result.bytes, removed: result.removed }, "scheduled backup done"),
      (error: Error) => logger.error({ err: error }, `scheduled backup failed: ${error.message}`),
    );
    running = run;
    await run;
  });
  logger.info({ schedule, next: job.nextRun()?.toISOString() }, "backup scheduler started");
  return {
    next: () => job.nextRun(),
    async stop() {
      job.stop();
      await running;
    },
  };
}
