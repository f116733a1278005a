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
 * go through `mixstack ingest`, Redis and `mixstack worker` into InfluxDB, and the Overview and
 * Pipeline health queries, run as the reader bootstrap created, show exactly what was sent.
 */

const users = ["ada", "grace", "linus", "margaret", "ken"];
const signups = new Map([
  ["ada", "Sign Up"],
  ["grace", "signup"],
  ["ken", "Signed Up"],
]);

let pipeline: Pipeline;
let runner: PanelRunner;
const sent: Array<{ event: string; distinctId: string }> = [];
let trackRequests = 0;
const dashboards = new Map(loadDashboards().map(({ dashboard }) => [dashboard.uid, dashboard]));

function panelSeries(dashboard: DashboardJson, title: string, scenario: Scenario): Promise<QuerySeries[]> {
  const panel = queryPanels(dashboard).find((candidate) => candidate.title === title);
  if (!panel?.targets?.[0]) throw new Error(`${dashboard.uid} has no panel "${title}"`);
  const target = panel.targets[0];
  return runner.variableStates(dashboard, scenario).then((variables) => runner.run(runner.prepare(dashboard, panel, target, scenario, variables).text));
}

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
    workerEnv: { WORKER_SAMPLE_INTERVAL_MS: "500" },
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
  for (const { event, properties } of events) sent.push({ event, distinctId: properties.distinct_id ?? "" });
  // The SDK sends at most 50 events per request: two requests here.
  await sendBatch(client, events.slice(0, 10));
  await sendBatch(client, events.slice(10));
  trackRequests = 2;
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
    async () => (await reader.rows(`SELECT count("insert_id") FROM "events"`, { db: pipeline.database }))[0]?.count === sent.length,
    { timeoutMs: 60_000 },
  );
});

const lastHour: Scenario = { name: "last hour", time: { from: "now-1h", to: "now" }, now: () => Date.now() };

describe("panels over data written by the real ingest and worker", () => {
  it("Overview counts the events, the users (anonymous left out) and the sign-ups that were sent", async () => {
    const overview = dashboards.get("mixstack-overview")!;
    expect(singleValue(await panelSeries(overview, "Events", lastHour))).toBe(sent.length);
    expect(singleValue(await panelSeries(overview, "Active users", lastHour))).toBe(users.length);
    expect(singleValue(await panelSeries(overview, "Sign-ups, last 7 days", lastHour))).toBe(signups.size);
    const top = await panelSeries(overview, "Top events", lastHour);
    const counts = new Map<string, number>();
    for (const { event } of sent) counts.set(event, (counts.get(event) ?? 0) + 1);
    expect(new Map(top[0]!.values.map((row) => [row[2] as string, row[1] as number]))).toEqual(counts);
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
