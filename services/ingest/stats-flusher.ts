import type { Logger } from "../core/log";
import { QueueFailure, type QueueWriter } from "./queue-writer";
import type { StatsWindow } from "./stats-window";

/**
 * Every `intervalMs`, puts the window's counters on the stream as one `stats` entry (ignoring
 * backpressure: a few hundred bytes that tell the operator what is going on). A failed write keeps
 * the counts for the next window. `stop` flushes once more.
 */
export function startStatsFlush(window: StatsWindow, queue: QueueWriter, intervalMs: number, log: Logger): { stop(): Promise<void> } {
  let flushing: Promise<void> | undefined;
  const flush = async () => {
    if (window.empty) return;
    const now = Date.now();
    const items = window.drain(now);
    const written = await queue.write({ kind: "stats", items, received: now }, { ignoreBackpressure: true });
    if (written instanceof QueueFailure) {
      window.restore(items);
      log.debug({ reason: written.reason }, "stats flush deferred");
    }
  };
  const tick = () => {
    if (!flushing) flushing = flush().finally(() => (flushing = undefined));
  };
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
  timer?.unref();
  return {
    async stop() {
      clearInterval(timer);
      await flushing;
      if (intervalMs > 0) await flush();
    },
  };
}
