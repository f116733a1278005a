import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { SettingsError } from "../core/settings";
import { startIngest } from "./service";
import { readIngestSettings } from "./settings";

/** `mixstack ingest`: the Mixpanel-compatible HTTP API in front of the Redis stream. */
export const ingestCommand: Command = {
  summary: "the Mixpanel-compatible ingestion API (/track, /engage, /groups, /import)",
  usage: "usage: mixstack ingest\n\nConfigured by environment variables; see docs/ingest.md.",
  async run() {
    let settings;
    try {
      settings = readIngestSettings();
    } catch (error) {
      if (error instanceof SettingsError) {
        process.stderr.write(`${error.message}\n`);
        return 2;
      }
      throw error;
    }
    const log = createLogger("ingest", settings.logLevel);
    const ingest = await startIngest(settings, log, { defaultMetrics: true });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    log.info({ signal, graceMs: settings.shutdownGraceMs }, "draining");
    const { drained } = await ingest.stop();
    log.info({ drained }, "stopped");
    return 0;
  },
};
