import Mixpanel from "mixpanel";
import { beforeAll, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { InfluxClient } from "../../services/core/influx";
import { scratchDir, track } from "../harness/services";
import { loadDashboards, loadProvisionedDatasource, queryPanels, type DashboardJson } from "./dashboard-json";
import { PanelRunner, type QuerySeries, type Scenario } from "./panel-runner";

/**
 * The panels read what the real pipeline writes: events sent with the official `mixpanel` Node SDK
 * go through `mixstack ingest`, Redis and `mixstack worker` into InfluxDB, the worker's rollup job
 * rolls them up, and the Overview, Users, Event explorer and Pipeline health queries, run as the
 * reader bootstrap created, show exactly what was sent.
 */

const users = ["ada", "grace", "linus", "margaret", "ken"];
const signups = new Map([
  ["ada", "Sign Up"],
  ["grace", "signup"],
  ["ken", "Signed Up"],
]);

let pipeline: Pipeline;
let runner: PanelRunner;
/** Sent in the last hour. */
const sent: Array<{ event: string; distinctId: string; time: number; os?: string }> = [];
/** Sent with times two and three days back: earlier activity, so that some of today's users are returning ones. */
const earlier: typeof sent = [];
let trackRequests = 0;
const dashboards = new Map(loadDashboards().map(({ dashboard }) => [dashboard.uid, dashboard]));

function panelSeries(dashboard: DashboardJson, title: string, scenario: Scenario): Promise<QuerySeries[]> {
  const panel = queryPanels(dashboard).find((candidate) => candidate.title === title);
  if (!panel?.targets?.[0]) throw new Error(`${dashboard.uid} has no panel "${title}"`);
  const target = panel.targets[0];
  return runner.variableStates(dashboard, scenario).then((variables) => runner.run(runner.prepare(dashboard, panel, target, scenario, variables).text));
}

/** The rollups follow the writes within a round or two of the job: checks wait for them, with a deadline. */
const rolledUp = (what: string, check: () => Promise<void>) =>
  waitFor(
    what,
    async () => {
      await check();
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );

const singleValue = (series: QuerySeries[]) => (series.length === 1 && series[0]!.values.length === 1 ? series[0]!.values[0]![1] : undefined);

function sendBatch(client: ReturnType<typeof Mixpanel.init>, events: Mixpanel.Event[]): Promise<void> {
  return new Promise((resolve, reject) => client.track_batch(events, (errors) => (errors?.length ? reject(errors[0]) : resolve())));
}

beforeAll(async () => {
  pipeline = await startPipeline({
    dir: scratchDir("pipeline-to-panels"),
    authEnabled: true,
    workers: 1,
    // Short windows so that ingest's counters and the worker's samples arrive within the test.
    ingestEnv: { MIXSTACK_STATS_INTERVAL_MS: "500" },
    workerEnv: { WORKER_SAMPLE_INTERVAL_MS: "500", ROLLUP_INTERVAL_MS: "200" },
    onStarted: (process) => track(process),
  });
  if (!pipeline.ingestUrl) throw new Error("this build has no ingest");
  const { hostname, port } = new URL(pipeline.ingestUrl);
  const connection = { host: hostname, port: Number(port), protocol: "http", keepAlive: false };
  const client = Mixpanel.init(pipeline.token, connection);

  const now = Date.now();
  const events: Mixpanel.Event[] = [];
  users.forEach((user, index) => {
    for (let n = 0; n <= index; n++) events.push({ event: "view", properties: { distinct_id: user, time: now - 60_000 * (n + 1), $os: "Linux" } });
    const signup = signups.get(user);
    if (signup) events.push({ event: signup, properties: { distinct_id: user, time: now - 30_000 } });
  });
  events.push({ event: "signup_page_viewed", properties: { distinct_id: "linus", time: now - 20_000 } });
  events.push({ event: "view", properties: { time: now - 10_000 } }); // anonymous: an event, not a user
  for (const { event, properties } of events) {
    sent.push({ event, distinctId: properties.distinct_id ?? "", time: properties.time as number, os: properties.$os as string | undefined });
  }
  const dayMs = 86_400_000;
  const before: Mixpanel.Event[] = [
    { event: "view", properties: { distinct_id: "ada", time: now - 3 * dayMs, $os: "Mac OS X" } },
    { event: "view", properties: { distinct_id: "ada", time: now - 2 * dayMs, $os: "Mac OS X" } },
    { event: "click", properties: { distinct_id: "linus", time: now - 2 * dayMs } },
  ];
  for (const { event, properties } of before) {
    earlier.push({ event, distinctId: properties.distinct_id ?? "", time: properties.time as number, os: properties.$os as string | undefined });
  }
  // The earlier activity first: `user_type` is decided on arrival (docs/dashboards.md, Limits).
  await sendBatch(client, before);
  // The SDK sends at most 50 events per request: two requests here.
  await sendBatch(client, events.slice(0, 10));
  await sendBatch(client, events.slice(10));
  trackRequests = 3;
  // One event with a token this server does not know: refused (ingest answers 0, the SDK reports
  // it as an error), counted by reason.
  await expect(sendBatch(Mixpanel.init("not-our-token", connection), [{ event: "view", properties: { distinct_id: "mallory", time: now } }])).rejects.toThrow(
    /Server Error: 0/,
  );
  trackRequests += 1;

  const reader = new InfluxClient({ url: pipeline.influx.url, ...pipeline.credentials.reader });
  const provisioned = loadProvisionedDatasource({ INFLUX_DB: pipeline.database });
  runner = new PanelRunner(reader, { database: provisioned.jsonData.dbName, minInterval: provisioned.jsonData.timeInterval });
  await waitFor(
    "the worker to write every event",
    async () => (await reader.rows(`SELECT count("insert_id") FROM "events"`, { db: pipeline.database }))[0]?.count === sent.length + earlier.length,
    { timeoutMs: 60_000 },
  );
});

const lastHour: Scenario = { name: "last hour", time: { from: "now-1h", to: "now" }, now: () => Date.now() };
const lastWeek: Scenario = { name: "last 7 days", time: { from: "now-7d", to: "now" }, now: () => Date.now() };
const utcDayStart = (time: number) => Math.floor(time / 86_400_000) * 86_400_000;

describe("panels over data written by the real ingest and worker", () => {
  it("Overview counts the events, the users (anonymous left out) and the sign-ups that were sent", async () => {
    const overview = dashboards.get("mixstack-overview")!;
    const counts = new Map<string, number>();
    for (const { event } of sent) counts.set(event, (counts.get(event) ?? 0) + 1);
    await rolledUp("Overview to show what was sent", async () => {
      expect(singleValue(await panelSeries(overview, "Events", lastHour))).toBe(sent.length);
      expect(singleValue(await panelSeries(overview, "Active users, last 7 days", lastHour))).toBe(users.length);
      expect(singleValue(await panelSeries(overview, "Sign-ups, last 7 days", lastHour))).toBe(signups.size);
      const top = await panelSeries(overview, "Top events", lastHour);
      expect(new Map(top[0]!.values.map((row) => [row[2] as string, row[1] as number]))).toEqual(counts);
    });
  });

  it("Users splits the users the worker tagged into new (on their first day) and returning (later days), per UTC day", async () => {
    const users = dashboards.get("mixstack-users")!;
    const identified = [...earlier, ...sent].filter((one) => one.distinctId !== "");
    const firstDay = new Map<string, number>();
    for (const { distinctId, time } of identified) firstDay.set(distinctId, Math.min(firstDay.get(distinctId) ?? Infinity, utcDayStart(time)));
    // "new|<day>" / "returning|<day>" -> the users of that kind on that day.
    const expected = new Map<string, Set<string>>();
    for (const { distinctId, time } of identified) {
      const key = `${utcDayStart(time) === firstDay.get(distinctId) ? "new" : "returning"}|${utcDayStart(time)}`;
      expected.set(key, (expected.get(key) ?? new Set()).add(distinctId));
    }
    await rolledUp("Users to split them", async () => {
      const series = await panelSeries(users, "New and returning users per day", lastWeek);
      expect(series.map((one) => one.tags.user_type).sort()).toEqual(["new", "returning"]);
      const actual = new Map<string, number>();
      for (const one of series) for (const [time, count] of one.values) if (count) actual.set(`${one.tags.user_type}|${time}`, count as number);
      expect(actual).toEqual(new Map([...expected].map(([key, ids]) => [key, ids.size])));
      expect(actual.get(`returning|${utcDayStart(Date.now())}`), "ada and linus came back today").toBeGreaterThanOrEqual(1);
    });
  });

  it("Event explorer breaks all events down by a property the worker wrote as a tag ($os)", async () => {
    const explorer = dashboards.get("mixstack-events")!;
    const scenario: Scenario = { ...lastWeek, variables: { event: ["$__all"], breakdown: "$os" } };
    const expected = new Map<string, number>();
    for (const { os } of [...earlier, ...sent]) expected.set(os ?? "", (expected.get(os ?? "") ?? 0) + 1);
    expect(expected.get("Linux")).toBeGreaterThan(0);
    await rolledUp("the explorer to break them down", async () => {
      const series = await panelSeries(explorer, "Events by $breakdown, totals", scenario);
      expect(new Map(series.map((one) => [one.tags.$os, one.values[0]![1]]))).toEqual(expected);
    });
  });

  it("Pipeline health shows ingest's requests, its refused event by reason, and the worker's drained queue", async () => {
    const health = dashboards.get("mixstack-pipeline")!;
    await waitFor(
      "ingest's and the worker's figures to reach InfluxDB",
      async () => {
        const { intervalMs } = runner.prepare(health, queryPanels(health).find((panel) => panel.title === "Ingest requests by status")!, { refId: "A", query: "$__interval_ms" }, lastHour, {});
        const requests = await panelSeries(health, "Ingest requests by status", lastHour);
        // Requests per second per bucket, back to a count: rate × bucket seconds, summed.
        const total = requests.flatMap((series) => series.values).reduce((sum, row) => sum + ((row[1] as number) * intervalMs) / 1000, 0);
        const rejects = await panelSeries(health, "Rejects by route and reason", lastHour);
        const backlog = singleValue(await panelSeries(health, "Stream backlog", lastHour));
        const written = singleValue(await panelSeries(health, "Points written", lastHour));
        expect(Math.round(total), "requests").toBe(trackRequests);
        expect(rejects.map((series) => ({ ...series.tags, rejected: series.values[0]![1] })), "rejects").toEqual([
          { route: "track", reason: "unknown_token", rejected: 1 },
        ]);
        expect(backlog, "stream backlog").toBe(0);
        expect(written, "points written").toBeGreaterThanOrEqual(sent.length);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });
});
