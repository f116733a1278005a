import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { withSettings } from "../core/settings";
import { stopSignal } from "../core/signals";
import { startQuery } from "./service";
import { readQuerySettings } from "./settings";

/** `mixstack query`: Mixpanel's Query API (reports) over InfluxDB and the worker's identity map. */
export const queryCommand: Command = {
  summary: "the Mixpanel Query API: segmentation, funnels, retention, export, engage (reports)",
  usage: "usage: mixstack query\n\nConfigured by environment variables; see docs/reports.md.",
  run: () =>
    withSettings(readQuerySettings, async (settings) => {
      const log = createLogger("query", settings.LOG_LEVEL);
      const query = await startQuery(settings, log, { defaultMetrics: true });
      const signal = await stopSignal();
      log.info({ signal }, "stopping");
      await query.stop();
    }),
};
