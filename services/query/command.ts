import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { SettingsError } from "../core/settings";
import { startQuery } from "./service";
import { readQuerySettings } from "./settings";

/** `mixstack query`: Mixpanel's Query API (reports) over InfluxDB and the worker's identity map. */
export const queryCommand: Command = {
  summary: "the Mixpanel Query API: segmentation, funnels, retention, export, engage (reports)",
  usage: "usage: mixstack query\n\nConfigured by environment variables; see docs/reports.md.",
  async run() {
    let settings;
    try {
      settings = readQuerySettings();
    } catch (error) {
      if (error instanceof SettingsError) {
        process.stderr.write(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
    const log = createLogger("query", settings.logLevel);
    const query = await startQuery(settings, log, { defaultMetrics: true });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info({ signal }, "stopping");
    await query.stop();
    return 0;
  },
};
