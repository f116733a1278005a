/**
 * The reports over a large data set, each beside the baseline measured in the same run: the time
 * InfluxDB takes to return the same rows (the report's own InfluxQL, chunked the same way) to a
 * client that only parses and counts them. Not part of `npm test`.
 *
 *   npx tsx bench/query.ts [--people 100000] [--runs 3] [--service-node-options "--require ./bench/cpu-profile.cjs"]
 *
 * Writes ≈ 11 events per person (≈ 1.1M for 100k people) over 14 weeks as the worker stores them
 * (its own point builder, raw line protocol, gzip, as fast as influxd takes them), 30 % of people
 * with device events stored before their merge (`mx:idmap` filled in Redis), then starts
 * `mixstack query` as its own process and times: a 3-step funnel, a 12-week retention and a unique
 * segmentation with `on` (a field), its RSS sampled throughout; and identity lookups per second.
 * Figures go to stdout and bench/results/query.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { InfluxClient } from "../services/core/influx";
import { toLine } from "../services/core/line-protocol";
import { redisKeys, type EventItem } from "../services/core/queue";
import { startPipeline } from "../services/dev/pipeline";
import { repoRoot } from "../services/dev/processes";
import { startQueryService } from "../services/dev/query";
import { seededRandom } from "../services/dev/seeded-random";
import { streamSelect } from "../services/query/influx-stream";
import { IdentityResolver, redisIdentityMap } from "../services/query/identity";
import { FieldTypes } from "../services/worker/field-types";
import { toEventPoint } from "../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../services/worker/settings";

const { values } = parseArgs({
  options: {
    people: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    "service-node-options": { type: "string" },
    /** Keep the data set in DIR and reuse it on the next run with the same --people (skips the write). */
    dir: { type: "string" },
    "chunk-size": { type: "string", default: "10000" },
  },
});
const PEOPLE = Number(values.people);
const RUNS = Number(values.runs);
const DAY = 86_400_000;
/** Monday 1 June 2026, 14 weeks. */
const START = Date.UTC(2026, 5, 1);
const WEEKS = 14;
const CHUNK_SIZE = Number(values["chunk-size"]);
const TARGET_RATIO = 1.5;
const TARGET_SECONDS = 5;
const TARGET_RSS_MB = 300;
const TARGET_LOOKUPS = 50_000;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const iso = (time: number) => new Date(time).toISOString().slice(0, 10);

async function writeEvents(influx: InfluxClient, database: string): Promise<{ events: number; merges: Array<[string, string]>; seconds: number }> {
  const random = seededRandom(2026);
  const schema = { tagKeys: new Set(DEFAULT_EVENT_TAGS) };
  const types = new FieldTypes();
  const os = ["Mac OS X", "Windows", "Linux", "iOS", "Android"];
  const browsers = ["Chrome", "Safari", "Firefox", "Edge"];
  const plans = ["free", "pro", "team", "enterprise"];
  const pages = ["home", "pricing", "docs", "blog", "changelog"];
  const merges: Array<[string, string]> = [];
  let lines: string[] = [];
  let events = 0;
  let counter = 0;
  const inFlight = new Set<Promise<void>>();
  const started = process.hrtime.bigint();
  const flush = async () => {
    const body = lines.join("\n");
    lines = [];
    const write = influx.write(body, { db: database, gzip: true }).finally(() => inFlight.delete(write));
    inFlight.add(write);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  const add = (event: string, time: number, distinctId: string, properties: EventItem["properties"], resolved: string) => {
    const item: EventItem = { event, time: time % 1000 === 0 ? time + 1 : time, insertId: `b${counter++}`, distinctId, properties };
    const line = toLine(toEventPoint(item, resolved, schema, types, undefined).point);
    if (typeof line !== "string") throw line;
    lines.push(line);
    events += 1;
  };
  for (let person = 0; person < PEOPLE; person += 1) {
    const user = `user-${person}`;
    const device = `device-${person}`;
    const birth = START + Math.floor(random() * 8 * 7 * DAY);
    const common = { $os: os[person % os.length]!, $browser: browsers[person % browsers.length]!, plan: plans[Math.floor(random() * plans.length)]! };
    if (random() < 0.3) {
      merges.push([device, user]);
      for (let n = 0; n < 2; n += 1) add("Viewed", birth - (n + 1) * 600_000, `$device:${device}`, { ...common, $device_id: device, page: "home" }, `$device:${device}`);
    }
    add("Signed up", birth, user, { ...common, $device_id: device, $user_id: user }, user);
    for (let n = 0; n < 9; n += 1) {
      const time = birth + Math.floor(random() * (START + WEEKS * 7 * DAY - birth));
      add("Viewed", time, user, { ...common, page: pages[Math.floor(random() * pages.length)]! }, user);
    }
    if (random() < 0.4) add("Paid", birth + Math.floor(random() * 5 * DAY), user, { ...common, amount: Math.floor(random() * 500) }, user);
    if (lines.length >= 10_000) await flush();
  }
  if (lines.length) await flush();
  await Promise.all(inFlight);
  return { events, merges, seconds: seconds(started) };
}

/** The baseline: the same statement, chunked the same way, read by a client that only counts rows. */
async function countRows(influx: { url: string; username?: string; password?: string }, database: string, statements: string[]): Promise<{ rows: number; seconds: number }> {
  const started = process.hrtime.bigint();
  let rows = 0;
  for (const statement of statements) for await (const chunk of streamSelect(influx, statement, { database, chunkSize: CHUNK_SIZE })) rows += chunk.values.length;
  return { rows, seconds: seconds(started) };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), "bench-query-"));
  const marker = join(dir, `written-${PEOPLE}.json`);
  const pipeline = await startPipeline({ dir, authEnabled: true, ingest: false, workers: 0 });
  try {
    const admin = new InfluxClient({ url: pipeline.influx.url, ...pipeline.credentials.admin, timeoutMs: 120_000 });
    const redis = createClient({ url: pipeline.redis.url, RESP: 2 });
    await redis.connect();
    let written: Awaited<ReturnType<typeof writeEvents>>;
    if (values.dir && existsSync(marker)) written = JSON.parse(readFileSync(marker, "utf8"));
    else {
      written = await writeEvents(admin, pipeline.database);
      for (let start = 0; start < written.merges.length; start += 5_000) {
        await redis.hSet(redisKeys.identityMap, Object.fromEntries(written.merges.slice(start, start + 5_000)));
      }
      if (values.dir) writeFileSync(marker, JSON.stringify(written));
    }
    process.stdout.write(`data: ${written.events.toLocaleString("en-US")} events, ${PEOPLE.toLocaleString("en-US")} people, ${written.merges.length.toLocaleString("en-US")} merged devices, written in ${written.seconds.toFixed(1)} s (${Math.round(written.events / written.seconds).toLocaleString("en-US")} points/s)\n`);

    // Identity lookups: every device id once (merged or not), in chunks as a report meets them.
    const resolver = new IdentityResolver(redisIdentityMap(redis, 2_000));
    const ids = Array.from({ length: PEOPLE }, (_, person) => `$device:device-${person}`);
    const lookupStart = process.hrtime.bigint();
    for (let start = 0; start < ids.length; start += CHUNK_SIZE) await resolver.prefetch(ids.slice(start, start + CHUNK_SIZE));
    const lookupsPerSecond = resolver.lookups / seconds(lookupStart);
    const mapped = ids.filter((id) => resolver.resolve(id) !== id).length;
    if (mapped !== written.merges.length) throw new Error(`identity lookups mapped ${mapped} devices, expected ${written.merges.length}`);
    await redis.close();

    const query = await startQueryService(pipeline, {
      funnels: [{ id: 1, name: "Signup to paid", steps: [{ event: "Viewed" }, { event: "Signed up" }, { event: "Paid" }], window: { length: 7, unit: "day" } }],
      // --service-node-options="--require ./bench/cpu-profile.cjs" profiles the service (see that file).
      env: { QUERY_TIMEOUT_MS: "120000", QUERY_CHUNK_SIZE: String(CHUNK_SIZE), ...(values["service-node-options"] ? { NODE_OPTIONS: values["service-node-options"] } : {}) },
    });
    const pid = query.process.pid!;
    let peakRss = rssMb(pid);
    const idleRss = peakRss;
    process.stdout.write(`query service started: RSS ${idleRss.toFixed(0)} MB before any report\n`);
    let reportPeak = peakRss;
    const sampler = setInterval(() => {
      const now = rssMb(pid);
      peakRss = Math.max(peakRss, now);
      reportPeak = Math.max(reportPeak, now);
    }, 50);
    const from = iso(START);
    const to = iso(START + WEEKS * 7 * DAY - DAY);
    const reports: Array<{ name: string; path: string; params: Record<string, string> }> = [
      { name: "3-step funnel (Viewed → Signed up → Paid, 7-day window, per week)", path: "funnels", params: { funnel_id: "1", from_date: from, to_date: to, unit: "week" } },
      { name: "12-week retention (Signed up → Viewed, weekly cohorts)", path: "retention", params: { from_date: from, to_date: to, born_event: "Signed up", event: "Viewed", unit: "week", interval_count: "12" } },
      { name: "unique segmentation of Viewed by a field (on plan, per day)", path: "segmentation", params: { event: "Viewed", from_date: from, to_date: to, type: "unique", on: 'properties["plan"]' } },
    ];
    const results = [];
    for (const report of reports) {
      const times: number[] = [];
      reportPeak = rssMb(pid);
      const baselines: number[] = [];
      let statements: string[] = [];
      let baselineRows = 0;
      for (let run = 0; run < RUNS; run += 1) {
        const started = process.hrtime.bigint();
        const response = await fetch(`${query.url}/api/query/${report.path}?${new URLSearchParams({ ...report.params, explain: "true" })}`, { headers: { Authorization: query.authorization } });
        const body = await response.text();
        times.push(seconds(started));
        if (response.status !== 200) throw new Error(`${report.path} answered ${response.status}: ${body.slice(0, 300)}`);
        statements = (response.headers.get("x-mixstack-influxql") ?? "").split(",").map(decodeURIComponent);
        const baseline = await countRows({ url: pipeline.influx.url, ...pipeline.credentials.reader }, pipeline.database, statements);
        baselines.push(baseline.seconds);
        baselineRows = baseline.rows;
      }
      const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
      const time = median(times);
      const baseline = median(baselines);
      results.push({ report: report.name, rows: baselineRows, seconds: time, baselineSeconds: baseline, ratio: time / baseline, peakRssMb: reportPeak, statements });
      process.stdout.write(
        `${report.name}: ${time.toFixed(2)} s over ${baselineRows.toLocaleString("en-US")} rows; InfluxDB to a counting client ${baseline.toFixed(2)} s; ratio ${(time / baseline).toFixed(2)} (runs: ${times.map((t) => t.toFixed(2)).join(", ")}; peak RSS ${reportPeak.toFixed(0)} MB)\n`,
      );
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMb(pid));
    await query.process.stop();
    const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
    const summary = {
      people: PEOPLE,
      events: written.events,
      writeSeconds: written.seconds,
      lookupsPerSecond,
      peakRssMb: peakRss,
      idleRssMb: idleRss,
      results,
      goals: {
        ratio: verdict(results.every((result) => result.ratio <= TARGET_RATIO)),
        seconds: verdict(results.every((result) => result.seconds <= TARGET_SECONDS)),
        rss: verdict(peakRss <= TARGET_RSS_MB),
        lookups: verdict(lookupsPerSecond >= TARGET_LOOKUPS),
      },
    };
    process.stdout.write(
      [
        `identity lookups: ${Math.round(lookupsPerSecond).toLocaleString("en-US")}/s (${resolver.lookups.toLocaleString("en-US")} device ids, pipelined HMGET of 2,000) — goal ≥ ${TARGET_LOOKUPS.toLocaleString("en-US")}/s: ${summary.goals.lookups}`,
        `query service peak RSS: ${peakRss.toFixed(0)} MB — goal ≤ ${TARGET_RSS_MB} MB: ${summary.goals.rss}`,
        `each report ≤ ${TARGET_RATIO} × baseline: ${summary.goals.ratio}; each ≤ ${TARGET_SECONDS} s: ${summary.goals.seconds}`,
        "",
      ].join("\n"),
    );
    mkdirSync(join(repoRoot, "bench", "results"), { recursive: true });
    writeFileSync(join(repoRoot, "bench", "results", "query.json"), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await pipeline.stop();
    if (!values.dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
