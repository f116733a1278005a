import { IntegerValue, nanoOffset, nanosecondTimestamp, toLine as lineOf, type FieldValue as LineFieldValue, type Point as LinePoint } from "../../services/core/line-protocol";
import { StatsWindow } from "../../services/ingest/stats-window";
import { toPipelinePoint, toStatsPoint, type PipelineSample } from "../../services/worker/schema";
import { seededRandom } from "../../services/dev/seeded-random";

/**
 * The known data set the panel tests write to InfluxDB: about a thousand users over six weeks
 * (events as the worker writes them, schema in docs/contracts.md) plus two hours of pipeline and
 * ingest samples. Generated from a fixed seed, kept in memory as plain points, so that the
 * expected panel numbers are computed here in TypeScript, never read back from a query.
 */

export const dayMs = 86_400_000;

/** "Now" for the product dashboards: Saturday 2024-06-15 13:37:20.500 UTC. */
export const datasetNow = Date.UTC(2024, 5, 15, 13, 37, 20, 500);
const today = Math.floor(datasetNow / dayMs) * dayMs;

export type FieldValue = number | string | boolean;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Integer fields get InfluxDB's `i` suffix; everything else numeric is a float. */
  integerFields?: ReadonlySet<string>;
  timeMs: number;
  /** The sub-millisecond part of the timestamp, in nanoseconds, derived as the worker does (`nanoOffset`). */
  offsetNs: number;
}

/** The names a sign-up goes by in this data set; `signup_page_viewed` is not one of them. */
export const signupEventNames: ReadonlySet<string> = new Set(["signup", "Sign Up", "Signed Up"]);

function pick<T>(random: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

const productEvents = [
  ["view", 300], ["click", 250], ["post", 100], ["search", 90], ["$mp_web_page_view", 60], ["share", 45],
  ["purchase", 35], ["logout", 30], ["settings_changed", 20], ["checkout.completed (beta)", 12], ["checkout-completed (beta)", 7],
] as const;

interface UserProfile {
  id: string;
  firstDay: number;
  tags: Record<string, string>;
}

function deviceTags(random: () => number): Record<string, string> {
  const country = pick(random, [["US", 5], ["DE", 3], ["FR", 2], ["BR", 2], ["JP", 1], ["IN", 2]] as const);
  const lib = pick(random, [["web", 5], ["iphone", 2], ["android", 2], ["python", 1]] as const);
  const tags: Record<string, string> = { mp_lib: lib, mp_country_code: country };
  if (lib === "web") {
    tags.$os = pick(random, [["Windows", 3], ["Mac OS X", 2], ["Linux", 1]] as const);
    tags.$browser = pick(random, [["Chrome", 4], ["Firefox", 1], ["Safari", 2]] as const);
  } else if (lib === "iphone") {
    tags.$os = "iOS";
  } else if (lib === "android") {
    tags.$os = "Android";
  }
  return tags;
}

export interface Dataset {
  /** `events` points, anonymous ones included (empty `distinct_id`, no `user_type`). */
  events: Point[];
  /** `ingest`, `ingest_rejects` and `pipeline` samples, relative to `pipelineNow`. */
  pipeline: Point[];
  pipelineNow: number;
}

function eventPoint(event: string, timeMs: number, distinctId: string, insertId: string, tags: Record<string, string>): Point {
  return {
    measurement: "events",
    tags: { ...tags, event },
    fields: { distinct_id: distinctId, insert_id: insertId },
    timeMs,
    offsetNs: nanoOffset(insertId),
  };
}

export function productEventsDataset(userCount = 1000): Point[] {
  return [...productEventPoints(userCount)];
}

/**
 * The same events one at a time, in the same order, for data sets too large to hold (the
 * benchmark's million users).
 */
export function* productEventPoints(userCount = 1000): Generator<Point> {
  const random = seededRandom(20240615);
  let sequence = 0;
  const point = (event: string, timeMs: number, user: UserProfile | undefined, tags: Record<string, string>): Point => {
    const insertId = `${user?.id ?? "anonymous"}-${++sequence}`;
    const userTags = user ? { ...tags, user_type: Math.floor(timeMs / dayMs) * dayMs === user.firstDay ? "new" : "returning" } : tags;
    return eventPoint(event, timeMs, user?.id ?? "", insertId, userTags);
  };
  // Times within a day, never later than "now" (minus a minute) on the current day.
  const timeIn = (dayStart: number) => dayStart + Math.floor(random() * (Math.min(dayStart + dayMs, datasetNow - 60_000) - dayStart));

  for (let index = 1; index <= userCount; index++) {
    const user: UserProfile = {
      id: `user-${String(index).padStart(4, "0")}`,
      firstDay: today - Math.floor(random() * 41) * dayMs,
      tags: deviceTags(random),
    };
    const activity = 0.08 + random() * 0.6;
    const signsUp = random() < 0.7;
    const signupName = pick(random, [["signup", 5], ["Sign Up", 3], ["Signed Up", 2]] as const);
    for (let day = user.firstDay; day <= today; day += dayMs) {
      const first = day === user.firstDay;
      if (!first && random() >= activity) continue;
      const count = 1 + Math.floor(random() * 5);
      for (let n = 0; n < count; n++) yield point(pick(random, productEvents), timeIn(day), user, user.tags);
      if (first && signsUp) yield point(signupName, timeIn(day), user, user.tags);
      if (first && random() < 0.2) yield point("signup_page_viewed", timeIn(day), user, user.tags);
      // A few users sign up again later: distinct counts must not count them twice.
      if (!first && signsUp && random() < 0.03) yield point("signup", timeIn(day), user, user.tags);
    }
  }

  for (let n = 0; n < 300; n++) {
    const day = today - Math.floor(random() * 41) * dayMs;
    yield point(pick(random, [["view", 2], ["$mp_web_page_view", 1]] as const), timeIn(day), undefined, deviceTags(random));
  }

  // Edges of the "yesterday" window: the first millisecond of the day, and the last one (which
  // `time <= <end>ms` misses once the insert-id offset adds nanoseconds to it).
  const yesterday = today - dayMs;
  const early: UserProfile = { id: "user-edge-early", firstDay: yesterday, tags: { mp_lib: "web", mp_country_code: "US" } };
  const late: UserProfile = { id: "user-edge-late", firstDay: yesterday, tags: { mp_lib: "web", mp_country_code: "US" } };
  yield point("click", yesterday, early, early.tags);
  yield point("click", today - 1, late, late.tags);
}

/** A point built by the services' own code (`toStatsPoint`, `toPipelinePoint`), as the reference computations read it. */
function fromServicePoint(point: LinePoint): Point {
  const fields: Record<string, FieldValue> = {};
  const integerFields = new Set<string>();
  for (const [key, value] of Object.entries(point.fields)) {
    if (value instanceof IntegerValue) {
      fields[key] = Number(value.value);
      integerFields.add(key);
    } else {
      fields[key] = value;
    }
  }
  if (point.timestamp === undefined) throw new Error(`${point.measurement} point has no timestamp`);
  const ns = BigInt(point.timestamp);
  const nsPerMs = BigInt(1_000_000);
  return { measurement: point.measurement, tags: { ...point.tags }, fields, integerFields, timeMs: Number(ns / nsPerMs), offsetNs: Number(ns % nsPerMs) };
}

/**
 * Two hours of ingest and worker samples every 10 s, the newest at `now` rounded down to 10 s. They
 * are made by the services' own code: ingest's `StatsWindow` counts requests and rejects, the worker's
 * `toStatsPoint` and `toPipelinePoint` turn them and the worker's samples into points. A renamed field
 * or measurement there leaves a pipeline-health panel without data, which fails the panel tests.
 */
export function pipelineDataset(now: number): { points: Point[]; now: number } {
  const end = Math.floor(now / 10_000) * 10_000;
  const points: Point[] = [];

  for (let k = 0; k < 720; k++) {
    const t = end - k * 10_000;
    const window = new StatsWindow();
    const requests = 20 + ((k * 7) % 13);
    for (let n = 0; n < requests; n++) window.recordRequest("track", 200, 3, 0);
    for (let n = 0; n < 4; n++) window.recordRequest("engage", 200, 1, 0);
    if (k % 3 === 0) window.recordRequest("import", 200, 500, 0);
    if (k % 5 === 0) {
      window.recordRequest("track", 400, 0, 2);
      window.recordRequest("track", 400, 0, 3);
      window.recordRejects("track", "missing_token", 3);
      window.recordRejects("track", "bad_time", 2);
    }
    if (k % 30 === 0) {
      window.recordRequest("import", 400, 0, 1);
      window.recordRejects("import", "invalid_json", 1);
    }
    if (k % 60 === 7) window.recordRequest("track", 503, 0, 0);
    if (k % 10 === 3) {
      window.recordRequest("track", 429, 0, 4);
      window.recordRejects("track", "rate_limited", 4);
    }
    // The worker spreads ingest's counters over the millisecond by stream entry and item.
    window.drain(t).forEach((item, index) => points.push(fromServicePoint(toStatsPoint(item, `${t}-0:${index}`))));

    const backlog = 100 + (k % 17) * 10;
    // A sample of a window without writes carries written 0 and batch_ms 0 (services/worker/metrics.ts).
    const worker = (consumer: string, lagMs: number, written: number, batchMs: number, streamLength: number) => {
      const sample: PipelineSample = {
        consumer,
        time: t - lagMs,
        written,
        batchMs,
        streamLength,
        lag: k % 4,
        pending: 10 + (k % 6),
        deadLetters: k < 100 ? 3 : 1,
        profiles: 1000 - k,
        groups: 50,
        refused: k % 20 === 0 ? 5 : 0,
        redisUsedBytes: 100_000_000 + (k % 50) * 1_000_000,
        redisMaxBytes: 402_653_184,
      };
      points.push(fromServicePoint(toPipelinePoint(sample)));
    };
    worker("worker-a", 3_000, 40 + (k % 11) * 3, 5 + (k % 9) * 1.5, backlog);
    const idle = k % 13 === 0;
    worker("worker-b", 7_000, idle ? 0 : 35 + (k % 7) * 4, idle ? 0 : 4.25 + (k % 5) * 2, backlog + 5);
  }
  return { points, now: end };
}

export function buildDataset(pipelineNow: number): Dataset {
  const pipeline = pipelineDataset(pipelineNow);
  return { events: productEventsDataset(), pipeline: pipeline.points, pipelineNow: pipeline.now };
}

/** One line of line protocol, written with the worker's own encoder (`services/core/line-protocol.ts`). */
export function toLine(point: Point): string {
  const fields: Record<string, LineFieldValue> = {};
  for (const [key, value] of Object.entries(point.fields)) {
    fields[key] = typeof value === "number" && point.integerFields?.has(key) ? new IntegerValue(value) : value;
  }
  const line = lineOf({ measurement: point.measurement, tags: point.tags, fields, timestamp: nanosecondTimestamp(point.timeMs, point.offsetNs) });
  if (typeof line !== "string") throw line;
  return line;
}

/** The series (measurement and tag set) the points create: what InfluxDB counts as cardinality. */
export function seriesKeys(points: readonly Point[]): Set<string> {
  return new Set(points.map((point) => JSON.stringify([point.measurement, Object.entries(point.tags).sort()])));
}
