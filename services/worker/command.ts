import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { SettingsError } from "../core/settings";
import { readWorkerSettings } from "./settings";
import { Worker } from "./worker";

/** Runs `start`, then waits for SIGTERM/SIGINT and runs `stop`; a bad environment exits 2 with its message. */
export async function runUntilSignalled(start: () => Promise<{ stop(): Promise<void> }>): Promise<number> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await running.stop();
  return 0;
}

export const workerCommand: Command = {
  summary: "move accepted events from the Redis stream into InfluxDB (identity, profiles, self-metrics)",
  usage: [
    "usage: mixstack worker",
    "",
    "Reads REDIS_URL, INFLUX_URL, INFLUX_DB, INFLUX_USER, INFLUX_PASSWORD, EVENT_TAGS, METRICS_PORT",
    "and the WORKER_* settings (docs/worker.md). Stops cleanly on SIGTERM/SIGINT.",
  ].join("\n"),
  run: () =>
    runUntilSignalled(async () => {
      const settings = readWorkerSettings();
      const worker = new Worker(settings, createLogger("worker", settings.LOG_LEVEL));
      await worker.start();
      return worker;
    }),
};
