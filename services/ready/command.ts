import type { Command } from "../core/command";
import { withSettings } from "../core/settings";
import { waitFor } from "../core/wait";
import { probesFor, type Probe } from "./probes";
import { readReadySettings } from "./settings";

/** Waits for every probe within the deadline; one line per dependency; 0 when all answered. */
export async function waitUntilReady(probes: Probe[], timeoutMs: number, write: (line: string) => void): Promise<number> {
  const results = await Promise.allSettled(
    probes.map(async (probe) => {
      await waitFor(probe.what, () => probe.check(), { timeoutMs, intervalMs: 2_000 });
      write(`ready: ${probe.what} answers\n`);
    }),
  );
  const failed = results.flatMap((result) => (result.status === "rejected" ? [String((result.reason as Error).message ?? result.reason)] : []));
  for (const reason of failed) write(`not ready: ${reason}\n`);
  return failed.length > 0 ? 1 : 0;
}

export const readyCommand: Command = {
  summary: "wait until the queue and InfluxDB of this environment answer (a platform's start gate)",
  usage: "usage: mixstack ready\n\n  reads REDIS_URL and INFLUX_URL (either may be absent), READY_WAIT_S (default 540)",
  run: () => withSettings(readReadySettings, (settings) => waitUntilReady(probesFor(settings), settings.READY_WAIT_S * 1000, (line) => process.stdout.write(line))),
};
