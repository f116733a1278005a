import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { ScheduleMetricValues } from "./schedule-status";

/**
 * The Prometheus registry of `mixstack scheduler` (served on `METRICS_PORT`): every value is read
 * at scrape time from `read()` (schedule-status.ts), so the registry holds no state of its own.
 */
export function schedulerRegistry(read: () => ScheduleMetricValues): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mixstack_backup_" });
  new Counter({
    name: "mixstack_backup_runs_total",
    help: "Scheduled backup runs finished since the scheduler started, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
    collect() {
      const { runs } = read();
      this.reset();
      // Both series from the start, so `increase(...{outcome="failure"}[1d])` has a zero to compare with.
      this.inc({ outcome: "success" }, runs.success);
      this.inc({ outcome: "failure" }, runs.failure);
    },
  });
  const gauge = (name: string, help: string, value: (values: ScheduleMetricValues) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(read()));
      },
    });
  gauge("mixstack_backup_last_success_timestamp_seconds", "End of the last successful scheduled run (Unix time); 0 until one succeeds", (v) => v.lastSuccessSeconds);
  gauge("mixstack_backup_last_run_duration_seconds", "Duration of the last finished scheduled run, successful or not; 0 until one finishes", (v) => v.lastRunDurationSeconds);
  gauge("mixstack_backup_running", "1 while a scheduled run is in progress", (v) => v.running);
  gauge("mixstack_backup_next_run_timestamp_seconds", "When the next scheduled run is due (Unix time); 0 when none is", (v) => v.nextRunSeconds);
  return registry;
}
