import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { withSettings } from "../core/settings";
import { stopSignal } from "../core/signals";
import { readWorkerSettings } from "./settings";
import { Worker } from "./worker";

export const workerCommand: Command = {
  summary: "move accepted events from the Redis stream into InfluxDB (identity, profiles, self-metrics)",
  usage: [
    "usage: mixstack worker",
    "",
    "Reads REDIS_URL, INFLUX_URL, INFLUX_DB, INFLUX_USER, INFLUX_PASSWORD, EVENT_TAGS, METRICS_PORT",
    "and the WORKER_* settings (docs/worker.md). Stops cleanly on SIGTERM/SIGINT.",
  ].join("\n"),
  run: () =>
    withSettings(readWorkerSettings, async (settings) => {
      const worker = new Worker(settings, createLogger("worker", settings.LOG_LEVEL));
      await worker.start();
      await stopSignal();
      await worker.stop();
    }),
};
