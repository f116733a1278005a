import { randomUUID } from "node:crypto";
import type { InfluxClient } from "../../core/influx";
import { toLine, type Point } from "../../core/line-protocol";
import type { Logger } from "../../core/log";
import { redisKeys } from "../../core/queue";
import { pause } from "../backoff";
import type { DayNumber } from "./activity-window";
import { DayFactsCollector, MS_PER_DAY, type DayFacts } from "./day-facts";
import { queryChunks } from "./influx-chunks";
import { keptDay, RECENT_DAYS, RollupEngine, type KeptDay } from "./rollup-engine";
import { dayPoints, dayDetailPoints } from "./rollup-points";
import { closeReopened, dayName, dayOfTime, readReopened, readRollupState, writeRollupState, type RedisCommands } from "../../core/reopened-days";

/**
 * The rollup job (docs/dashboards.md): turns the raw `events` of each UTC day into the rollup
 * measurements the panels read, once per closed day and again whenever a day's events change.
 * It runs inside `mixstack worker` (one worker at a time holds `mx:rollup:lock`), because the worker
 * is the one long-lived process of every platform, already talks to Redis and InfluxDB with write
 * access, and is the one that knows which days a batch touched.
 *
 * A round:
 * 1. reads the reopened days and their versions (`reopened-days.ts`), then the job's state;
 * 2. picks the days to read again: reopened days, every day since the last one computed after it
 *    ended (catching up after downtime), and today (the open day, when it changed);
 * 3. reads each such day once from InfluxDB (`GROUP BY *`, chunked) and writes its points, then
 *    writes the rolling figures of every day from the earliest one read up to today;
 * 4. clears the days it read if their version did not move, and records its progress.
 * Everything it writes lands on fixed timestamps, so a round repeated (a crash, two workers) writes
 * the same points again: it is idempotent.
 */

export interface RollupJobOptions {
  redis: RedisCommands;
  influx: InfluxClient;
  db: string;
  log: Logger;
  /** Pause between rounds; a round that took long makes the next pause longer (at most ~10 % busy). */
  intervalMs: number;
  clock?: () => number;
  /** Points per InfluxDB write. */
  batchPoints?: number;
  /**
   * Who holds the job's lock: the worker's consumer name, so that a worker restarted under the same
   * name (a container's restart) takes the job back at once instead of waiting for the lock to expire.
   */
  owner?: string;
}

export interface RoundReport {
  /** Days read from `events` (context days of a rebuild included). */
  daysRead: number;
  /** Days whose points were written. */
  daysWritten: number;
  rebuilt: boolean;
  points: number;
  ms: number;
}

/** The job's lock outlives a stopped holder by at most this (or 3 rounds, or 3 of its slowest day reads). */
const MIN_LOCK_TTL_MS = 10_000;

const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 2 end
return 0
`;

/** Reads one UTC day of `events` into its facts. */
export async function readDayFacts(influx: InfluxClient, db: string, day: DayNumber, signal?: AbortSignal): Promise<DayFacts> {
  const start = day * MS_PER_DAY;
  const collector = new DayFactsCollector(day);
  await queryChunks(
    influx,
    `SELECT "distinct_id" FROM "events" WHERE time >= ${start}ms AND time < ${start + MS_PER_DAY}ms GROUP BY *`,
    { db, signal },
    (chunk) => collector.add(chunk.tags, chunk.values, chunk.columns.indexOf("distinct_id")),
  );
  return collector.finish();
}

/** The UTC day of the earliest event, or undefined when there is none. */
export async function firstEventDay(influx: InfluxClient, db: string): Promise<DayNumber | undefined> {
  const rows = await influx.rows(`SELECT first("insert_id") FROM "events"`, { db, epoch: "ms" });
  const time = rows[0]?.time;
  return typeof time === "number" ? dayOfTime(time) : undefined;
}

export class RollupJob {
  readonly engine = new RollupEngine();
  private readonly token: string;
  private readonly clock: () => number;
  private readonly abort = new AbortController();
  private holding = false;
  /** Today, once computed since the last change (none after a start). */
  private openDayDone: DayNumber | undefined;
  private lastRoundMs = 0;
  /** The longest read of one day so far: the lock is renewed after each read, so it must outlive one. */
  private slowestReadMs = 0;
  private loop?: Promise<void>;

  constructor(private readonly options: RollupJobOptions) {
    this.clock = options.clock ?? Date.now;
    this.token = options.owner ?? randomUUID();
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.holding) {
      await this.options.redis
        .sendCommand(["EVAL", `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, "1", redisKeys.rollupLock, this.token])
        .catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    const { log, intervalMs } = this.options;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const report = await this.runOnce();
        failures = 0;
        if (report) log.debug({ ...report }, "rollups written");
      } catch (error) {
        if (this.abort.signal.aborted) break;
        failures += 1;
        // Half-applied rounds are not trusted: the next one starts from InfluxDB again.
        this.engine.reset();
        this.openDayDone = undefined;
        if (failures === 1 || failures % 10 === 0) log.warn({ err: (error as Error).message, failures }, "rollup round failed; retrying");
      }
      const wait = failures > 0 ? Math.min(intervalMs * 2 ** Math.min(failures - 1, 5), 5 * 60_000) : Math.max(intervalMs, this.lastRoundMs * 9);
      await pause(wait, this.abort.signal);
    }
  }

  private lockTtl(): number {
    return Math.max(MIN_LOCK_TTL_MS, this.options.intervalMs * 3, this.slowestReadMs * 3);
  }

  private async renewLock(): Promise<number> {
    return Number(await this.options.redis.sendCommand(["EVAL", RENEW_LOCK, "1", redisKeys.rollupLock, this.token, String(this.lockTtl())]));
  }

  /** Takes or keeps the job's lock; false when another worker holds it. */
  private async holdLock(): Promise<boolean> {
    const reply = await this.renewLock();
    const held = reply !== 0;
    // Taken anew (first time, or after another worker had it): what this process remembers may be stale.
    if (reply === 2 || !held) {
      this.engine.reset();
      this.openDayDone = undefined;
    }
    this.holding = held;
    return held;
  }

  /** One round, if this worker holds the job; undefined when another one does or nothing changed. */
  async runOnce(): Promise<RoundReport | undefined> {
    const started = Date.now();
    const { redis, influx, db, log } = this.options;
    const signal = this.abort.signal;
    if (!(await this.holdLock())) return undefined;
    const now = this.clock();
    const today = dayOfTime(now);

    // Versions first: a write that lands after this read leaves its day reopened for the next round.
    const reopened = await readReopened(redis);
    const state = await readRollupState(redis);
    const pastReopened = [...reopened.keys()].filter((day) => day <= today);
    let firstDay = state.firstDay;
    if (firstDay === undefined) firstDay = await firstEventDay(influx, db);
    for (const day of pastReopened) if (firstDay === undefined || day < firstDay) firstDay = day;
    if (firstDay === undefined) return undefined;

    const closedThrough = Math.max(state.closedThrough ?? firstDay - 1, firstDay - 1);
    const toRead = new Set<DayNumber>();
    for (const day of pastReopened) if (day >= firstDay) toRead.add(day);
    for (let day = closedThrough + 1; day < today; day += 1) toRead.add(day);
    if (this.openDayDone !== today || reopened.has(today)) toRead.add(today);
    if (toRead.size === 0) {
      this.lastRoundMs = Date.now() - started;
      return undefined;
    }
    const from = Math.min(...toRead);

    const report: RoundReport = { daysRead: 0, daysWritten: 0, rebuilt: false, points: 0, ms: 0 };
    const writer = new PointBatcher(influx, db, this.options.batchPoints ?? 5000, (count) => (report.points += count));
    const read = async (day: DayNumber): Promise<DayFacts> => {
      report.daysRead += 1;
      const readStarted = Date.now();
      const facts = await readDayFacts(influx, db, day, signal);
      this.slowestReadMs = Math.max(this.slowestReadMs, Date.now() - readStarted);
      if (!(await this.renewLock())) throw new Error("another worker took the rollup job over");
      return facts;
    };

    const { engine } = this;
    if (engine.needsRebuild(from)) {
      report.rebuilt = true;
      const contextFrom = Math.max(firstDay, from - 29);
      engine.startAt(contextFrom - 1);
      for (let day = contextFrom; day < from; day += 1) engine.settle(keptDay(await read(day)));
    }
    // Every day after the base is either kept from an earlier round or read now.
    for (let day = engine.baseThrough! + 1; day <= today; day += 1) {
      if (signal.aborted) throw new Error("stopped");
      let kept: KeptDay | undefined;
      if (toRead.has(day) || !engine.has(day)) {
        const facts = await read(day);
        await writer.add(dayDetailPoints(facts, day < today, now));
        report.daysWritten += 1;
        kept = keptDay(facts);
      }
      // Days too old for late events go straight into the base (a long catch-up keeps no more in memory).
      if (kept && day < today - RECENT_DAYS && !engine.has(day) && engine.baseThrough === day - 1) {
        const figures = engine.settle(kept);
        if (day >= from) await writer.add(dayPoints(figures, true));
      } else if (kept) {
        engine.keep(kept);
      }
    }
    for (const figures of engine.recentFigures()) if (figures.day >= from) await writer.add(dayPoints(figures, figures.day < today));
    await writer.flush();

    const computed = new Map<DayNumber, string>();
    for (const day of toRead) {
      const version = reopened.get(day);
      if (version !== undefined) computed.set(day, version);
    }
    await closeReopened(redis, computed);
    await writeRollupState(redis, { firstDay, closedThrough: Math.max(closedThrough, today - 1) });
    engine.settleBefore(today);
    this.openDayDone = today;
    report.ms = Date.now() - started;
    this.lastRoundMs = report.ms;
    if (report.rebuilt) log.info({ from: dayName(from), to: dayName(today), daysRead: report.daysRead, ms: report.ms, memory: engine.footprint() }, "rollups rebuilt");
    return report;
  }
}

/** Writes points in batches as they come, so that a long catch-up holds one batch at a time. */
class PointBatcher {
  private lines: string[] = [];

  constructor(
    private readonly influx: InfluxClient,
    private readonly db: string,
    private readonly batchPoints: number,
    private readonly onWritten: (count: number) => void,
  ) {}

  async add(points: readonly Point[]): Promise<void> {
    for (const point of points) {
      const line = toLine(point);
      if (typeof line !== "string") throw line;
      this.lines.push(line);
    }
    if (this.lines.length >= this.batchPoints) await this.flush();
  }

  async flush(): Promise<void> {
    while (this.lines.length > 0) {
      const batch = this.lines.splice(0, this.batchPoints);
      await this.influx.write(batch.join("\n"), { db: this.db, gzip: true });
      this.onWritten(batch.length);
    }
  }
}
