import { InfluxError, type InfluxClient } from "../core/influx";
import type { Logger } from "../core/log";
import { backoffDelay, pause } from "./backoff";
import { parseTypeConflict, type FieldTypes } from "./field-types";
import { lineCount, requestBody, requestsOf, type LineBlock } from "./line-block";

/**
 * Writes the points of a batch to InfluxDB and decides what every answer means:
 * - 5xx, timeouts, refused connections, 429, and also 401/403/404 (credentials or database not
 *   there yet: an operator fixes those, the data must wait, not be thrown away): retry the same
 *   request with exponential backoff, forever, holding nothing but this batch;
 * - 413: split the request;
 * - 400 "field type conflict": learn the field's type, rebuild the lines (the conflicting values move
 *   to a suffixed field) and write again; a round must learn something new, so this cannot loop;
 * - any other 400 (unparsable point, too many tag values, ...): InfluxDB wrote the other points of
 *   the request; bisect the batch by entry to find the entries it refuses, and report those. Points
 *   older than the retention policy are dropped by design and reported apart.
 */

export interface EntryLines {
  id: string;
  /** The entry's lines with the current field types; called again after a type conflict. */
  lines(): LineBlock;
}

export interface WriteOutcome {
  /** Entries InfluxDB refuses for good, with its answer. */
  rejected: Map<string, string>;
  /** Entries whose points are older than the retention policy (InfluxDB drops them by design). */
  beyondRetention: Set<string>;
  /** Lines sent in requests InfluxDB accepted. */
  lines: number;
}

export interface PointWriterOptions {
  db: string;
  maxPoints: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  types: FieldTypes;
  log: Logger;
  signal: AbortSignal;
  /** Called while waiting to retry (to keep the batch's entries claimed). */
  onWait?: () => Promise<void>;
  /** Called with each retry and with each recovery, for metrics. */
  onRetry?: (error: InfluxError) => void;
  onRecovered?: (downMs: number) => void;
  onTypeConflict?: () => void;
  /** Called after each request InfluxDB accepted, with its duration. */
  onWritten?: (lines: number, milliseconds: number) => void;
}

/** At most this many rounds of learning field types for one batch (each round learns one field). */
const MAX_CONFLICT_ROUNDS = 50;

type Answer = { ok: true; lines: number } | { ok: false; message: string };

export class WriteStopped extends Error {
  constructor() {
    super("stopped while writing");
  }
}

export function waitsForOperator(error: InfluxError): boolean {
  return error.transient || error.status === 401 || error.status === 403 || error.status === 404;
}

export function isBeyondRetention(message: string): boolean {
  return message.includes("points beyond retention policy");
}

export class PointWriter {
  constructor(
    private readonly influx: InfluxClient,
    private readonly options: PointWriterOptions,
  ) {}

  /** Writes every entry's lines; throws `WriteStopped` when the worker stops before InfluxDB accepted them. */
  async write(entries: readonly EntryLines[]): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { rejected: new Map(), beyondRetention: new Set(), lines: 0 };
    await this.writeGroup(entries, outcome);
    return outcome;
  }

  private async writeGroup(entries: readonly EntryLines[], outcome: WriteOutcome): Promise<void> {
    if (entries.length === 0) return;
    const answer = await this.writeLearningTypes(entries);
    if (answer.ok) {
      outcome.lines += answer.lines;
      return;
    }
    if (entries.length === 1) {
      const [entry] = entries;
      if (isBeyondRetention(answer.message)) outcome.beyondRetention.add(entry!.id);
      else outcome.rejected.set(entry!.id, answer.message);
      return;
    }
    const middle = Math.ceil(entries.length / 2);
    await this.writeGroup(entries.slice(0, middle), outcome);
    await this.writeGroup(entries.slice(middle), outcome);
  }

  private async writeLearningTypes(entries: readonly EntryLines[]): Promise<Answer> {
    let answer: Answer = { ok: false, message: "no attempt" };
    for (let round = 0; round < MAX_CONFLICT_ROUNDS; round += 1) {
      const blocks = entries.map((entry) => entry.lines());
      answer = await this.writeLines(blocks);
      if (answer.ok) return answer;
      const conflict = parseTypeConflict(answer.message);
      if (!conflict || !this.options.types.learn(conflict.measurement, conflict.field, conflict.existing)) return answer;
      this.options.onTypeConflict?.();
      this.options.log.info({ field: conflict.field, measurement: conflict.measurement, existing: conflict.existing }, "field type learnt from InfluxDB");
    }
    return answer;
  }

  private async writeLines(blocks: readonly LineBlock[]): Promise<Answer> {
    let written = 0;
    for (const request of requestsOf(blocks, this.options.maxPoints)) {
      const answer = await this.writeChunk(request);
      if (!answer.ok) return answer;
      written += answer.lines;
    }
    return { ok: true, lines: written };
  }

  private async writeChunk(request: readonly LineBlock[]): Promise<Answer> {
    const lines = lineCount(request);
    if (lines === 0) return { ok: true, lines: 0 };
    let attempt = 0;
    let downSince = 0;
    for (;;) {
      if (this.options.signal.aborted) throw new WriteStopped();
      try {
        const started = Date.now();
        await this.influx.write(requestBody(request), { db: this.options.db, gzip: true });
        this.options.log.debug({ lines, ms: Date.now() - started }, "InfluxDB write");
        this.options.onWritten?.(lines, Date.now() - started);
        if (downSince) {
          const downMs = Date.now() - downSince;
          this.options.log.info({ downMs, attempts: attempt }, "InfluxDB accepts writes again");
          this.options.onRecovered?.(downMs);
        }
        return { ok: true, lines };
      } catch (error) {
        if (!(error instanceof InfluxError)) throw error;
        if (error.status === 413 && lines > 1) {
          const [first, second = []] = requestsOf(request, Math.ceil(lines / 2));
          const firstAnswer = await this.writeChunk(first!);
          if (!firstAnswer.ok) return firstAnswer;
          const secondAnswer = await this.writeChunk(second);
          return secondAnswer.ok ? { ok: true, lines: firstAnswer.lines + secondAnswer.lines } : secondAnswer;
        }
        if (!waitsForOperator(error)) return { ok: false, message: error.message };
        if (!downSince) {
          downSince = Date.now();
          this.options.log.warn({ err: error.message, status: error.status }, "InfluxDB write failed; holding the batch and retrying");
        }
        this.options.onRetry?.(error);
        const delay = backoffDelay(attempt, this.options.backoffMinMs, this.options.backoffMaxMs);
        attempt += 1;
        await this.options.onWait?.().catch(() => undefined);
        await pause(delay, this.options.signal);
      }
    }
  }
}
