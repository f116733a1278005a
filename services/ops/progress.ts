import type { Logger } from "../core/log";

/**
 * Progress of long work (upload, download, shards backed up or restored): a redrawn line with bytes,
 * shards and ETA on a terminal, plain log lines (at most one every few seconds) otherwise.
 */

export interface ProgressState {
  label: string;
  bytesDone: number;
  bytesTotal?: number;
  shardsDone: number;
  shardsTotal?: number;
  startedAt: number;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

/** Remaining time from the fraction done so far; undefined until there is something to go on. */
export function estimateRemainingMs(state: ProgressState, now: number): number | undefined {
  const fraction =
    state.bytesTotal && state.bytesTotal > 0
      ? state.bytesDone / state.bytesTotal
      : state.shardsTotal && state.shardsTotal > 0
        ? state.shardsDone / state.shardsTotal
        : undefined;
  if (fraction === undefined || fraction <= 0) return undefined;
  if (fraction >= 1) return 0;
  return ((now - state.startedAt) * (1 - fraction)) / fraction;
}

export function formatProgress(state: ProgressState, now: number): string {
  const parts = [state.label];
  if (state.bytesTotal !== undefined) parts.push(`${formatBytes(state.bytesDone)} / ${formatBytes(state.bytesTotal)}`);
  else if (state.bytesDone > 0) parts.push(formatBytes(state.bytesDone));
  if (state.shardsTotal !== undefined) parts.push(`shards ${state.shardsDone}/${state.shardsTotal}`);
  const remaining = estimateRemainingMs(state, now);
  parts.push(remaining === undefined ? "ETA --:--" : `ETA ${formatDuration(remaining)}`);
  return parts.join("  ");
}

export interface ProgressTask {
  addBytes(bytes: number): void;
  shardDone(name?: string): void;
  finish(): void;
}

export interface ProgressReporter {
  start(label: string, totals: { bytes?: number; shards?: number }): ProgressTask;
}

/** Chooses the display: a terminal gets the redrawn line, anything else (logs) gets lines. */
export function progressReporter(logger: Logger, stream: NodeJS.WriteStream = process.stderr, logEveryMs = 5_000): ProgressReporter {
  return {
    start(label, totals) {
      const state: ProgressState = { label, bytesDone: 0, bytesTotal: totals.bytes, shardsDone: 0, shardsTotal: totals.shards, startedAt: Date.now() };
      let lastShown = stream.isTTY ? 0 : state.startedAt; // the "started" line counts as shown
      const show = (force: boolean) => {
        const now = Date.now();
        if (stream.isTTY) {
          if (!force && now - lastShown < 200) return;
          stream.write(`\r\x1b[2K${formatProgress(state, now)}`);
        } else {
          if (!force && now - lastShown < logEveryMs) return;
          logger.info({ progress: { ...state, etaMs: estimateRemainingMs(state, now) } }, formatProgress(state, now));
        }
        lastShown = now;
      };
      if (!stream.isTTY) logger.info({ progress: state }, `${label}: started`);
      return {
        addBytes(bytes) {
          state.bytesDone += bytes;
          show(false);
        },
        shardDone(name) {
          state.shardsDone += 1;
          if (!stream.isTTY && name) logger.info(`${label}: ${name} (${state.shardsDone}${state.shardsTotal ? `/${state.shardsTotal}` : ""})`);
          show(false);
        },
        finish() {
          show(true);
          if (stream.isTTY) stream.write("\n");
        },
      };
    },
  };
}

/** For tests and library callers that want no output. */
export const silentProgress: ProgressReporter = {
  start: () => ({ addBytes: () => undefined, shardDone: () => undefined, finish: () => undefined }),
};
