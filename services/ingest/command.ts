import type { Command } from "../core/command";
import { createLogger } from "../core/log";
import { withSettings } from "../core/settings";
import { stopSignal } from "../core/signals";
import { startIngest } from "./service";
import { readIngestSettings } from "./settings";

/** `mixstack ingest`: the Mixpanel-compatible HTTP API in front of the Redis stream. */
export const ingestCommand: Command = {
  summary: "the Mixpanel-compatible ingestion API (/track, /engage, /groups, /import)",
  usage: "usage: mixstack ingest\n\nConfigured by environment variables; see docs/ingest.md.",
  run: () =>
    withSettings(readIngestSettings, async (settings) => {
      const log = createLogger("ingest", settings.LOG_LEVEL);
      const ingest = await startIngest(settings, log, { defaultMetrics: true });
      const signal = await stopSignal();
      log.info({ signal, graceMs: settings.MIXSTACK_SHUTDOWN_GRACE_MS }, "draining");
      const { drained } = await ingest.stop();
      log.info({ drained }, "stopped");
    }),
};
