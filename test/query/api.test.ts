import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pipeline } from "../../services/dev/pipeline";
import type { QueryService } from "../../services/dev/query";
import { seededRandom } from "../../services/dev/seeded-random";
import { startQuery, type RunningQuery } from "../../services/query/service";
import { readQuerySettings } from "../../services/query/settings";
import { makeReportCommand } from "../../cli/report/command";
import { waitFor } from "../../services/dev/ports";
import { buildDataset, iso, sendDataset } from "./dataset";
import { ask, startReports, startReportsPipeline } from "./support";

/**
 * The Query API's edge: authentication, both prefixes, every malformed parameter's documented 4xx
 * (docs/reports.md, "Errors"), every limit's answer (400, 429, 504), and 10,000 fuzzed requests after
 * which the service still answers.
 */

let pipeline: Pipeline;
let service: QueryService;
let tight: QueryService;
let fewPeople: QueryService;
const day = iso(16);
const funnels = [{ id: 1, name: "Signup", steps: [{ event: "Viewed" }, { event: "Signed up" }] }];

beforeAll(async () => {
  pipeline = await startReportsPipeline("query-api");
  await sendDataset(pipeline, buildDataset(3, 30));
  [service, tight, fewPeople] = await Promise.all([
    startReports(pipeline, { funnels }),
    startReports(pipeline, { env: { QUERY_MAX_ROWS: "50", QUERY_MAX_SEGMENTS: "2", QUERY_MAX_RANGE_DAYS: "31", QUERY_MAX_BUCKETS: "100" } }),
    startReports(pipeline, { env: { QUERY_MAX_PEOPLE: "5" } }),
  ]);
}, 180_000);

describe("discovery over the last 31 days", () => {
  it("event names by frequency, an event's properties by how many events carry them, a property's values", async () => {
    const now = Date.now();
    const fresh = [
      { event: "Fresh", properties: { time: now - 3_000, distinct_id: "f1", $insert_id: "fresh-1", $os: "Linux", color: "red", size: 1 } },
      { event: "Fresh", properties: { time: now - 2_000, distinct_id: "f2", $insert_id: "fresh-2", $os: "Mac OS X", color: "blue" } },
      { event: "Fresh", properties: { time: now - 1_000, distinct_id: "f3", $insert_id: "fresh-3", color: "red" } },
      { event: "Rare", properties: { time: now - 500, distinct_id: "f3", $insert_id: "fresh-4" } },
    ];
    const response = await fetch(`${pipeline.ingestUrl}/import?strict=0`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`${pipeline.apiSecret}:`).toString("base64")}` },
      body: JSON.stringify(fresh),
    });
    expect(await response.text()).toBe("1");
    await waitFor("the fresh events", async () => (await ask(service, "events/names")).body.includes?.("Rare"), { timeoutMs: 30_000 });
    expect((await ask(service, "events/names")).body).toEqual(["Fresh", "Rare"]);
    expect((await ask(service, "events/properties/top", { event: "Fresh" })).body).toEqual({ color: { count: 3 }, $os: { count: 2 }, size: { count: 1 } });
    expect((await ask(service, "events/properties/top", { event: "Fresh", limit: 1 })).body).toEqual({ color: { count: 3 } });
    expect([...(await ask(service, "events/properties/values", { event: "Fresh", name: "color" })).body].sort()).toEqual(["blue", "red"]);
    expect((await ask(service, "events/properties/values", { event: "Fresh", name: "size" })).body).toEqual(["1"]);
    expect((await ask(service, "events/properties/values", { event: "Fresh", name: "nothing" })).body).toEqual([]);
  });
});

describe("authentication", () => {
  const segmentation = `/api/query/segmentation?event=Viewed&from_date=${day}&to_date=${day}`;
  const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;
  it.each([
    ["no credentials", undefined, 401],
    ["a wrong secret", basic("wrong-secret:"), 401],
    ["a wrong password for a service account", basic("robot:wrong-secret"), 401],
    ["a bearer token", "Bearer dev-query-secret", 401],
    ["the project-secret form (secret:)", basic("dev-query-secret:"), 200],
    ["the service-account form (user:secret)", basic("robot:dev-query-secret"), 200],
  ])("%s → %i", async (_name, authorization, status) => {
    const response = await fetch(`${service.url}${segmentation}`, { headers: authorization ? { Authorization: authorization } : {} });
    expect(response.status).toBe(status);
    const body = (await response.json()) as any;
    if (status === 401) {
      expect(body).toEqual({ error: expect.any(String), request: segmentation });
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic/);
    } else expect(body.data.values.Viewed).toBeDefined();
  });

  it("answers every endpoint under /api/query/ and /api/2.0/, with or without a trailing slash", async () => {
    for (const path of ["/api/query/funnels/list", "/api/2.0/funnels/list", "/api/2.0/funnels/list/", "/api/query/funnels/list/"]) {
      const answer = await ask(service, path);
      expect(answer.status, path).toBe(200);
      expect(answer.body).toEqual([{ funnel_id: 1, name: "Signup" }]);
    }
  });
});

describe("every malformed parameter has its documented 4xx", () => {
  const range = { from_date: day, to_date: day };
  const cases: Array<[string, string, Record<string, string>, number, RegExp]> = [
    ["missing event", "segmentation", { ...range }, 400, /^event is required$/],
    ["missing from_date", "segmentation", { event: "Viewed", to_date: day }, 400, /^from_date is required$/],
    ["a date that is not yyyy-mm-dd", "segmentation", { event: "Viewed", from_date: "2026/10/17", to_date: day }, 400, /from_date must be a date as yyyy-mm-dd/],
    ["a date that does not exist", "segmentation", { event: "Viewed", from_date: "2026-02-30", to_date: day }, 400, /from_date must be a date/],
    ["to_date before from_date", "segmentation", { event: "Viewed", from_date: day, to_date: iso(10) }, 400, /to_date must not be before from_date/],
    ["an unknown unit", "segmentation", { event: "Viewed", ...range, unit: "fortnight" }, 400, /unit must be one of minute, hour, day, week, month/],
    ["an unknown type", "segmentation", { event: "Viewed", ...range, type: "median" }, 400, /type must be one of general, unique, average/],
    ["a limit that is not a number", "segmentation", { event: "Viewed", ...range, limit: "ten" }, 400, /limit must be an integer/],
    ["a limit over 10,000", "segmentation", { event: "Viewed", ...range, limit: "10001" }, 400, /limit must be between 1 and 10000/],
    ["an unparsable where", "segmentation", { event: "Viewed", ...range, where: 'properties["a"] ==' }, 400, /^where: column 19: expected a value after "=="/],
    ["an unparsable on", "segmentation", { event: "Viewed", ...range, on: "properties[plan]" }, 400, /^on: column 12: expected a quoted property name/],
    ["an unknown function", "segmentation", { event: "Viewed", ...range, where: "lower(1)" }, 400, /^where: column 1: unknown name "lower"/],
    ["format=csv", "segmentation", { event: "Viewed", ...range, format: "csv" }, 400, /format=csv is not supported/],
    ["interval and unit together", "segmentation", { event: "Viewed", ...range, type: "unique", interval: "7", unit: "day" }, 400, /either unit or interval/],
    ["sum without on", "segmentation/sum", { event: "Paid", ...range }, 400, /on is required/],
    ["an unknown funnel", "funnels", { funnel_id: "99", ...range }, 400, /funnel_id 99 is not a saved funnel/],
    ["a funnel_id that is not a number", "funnels", { funnel_id: "signup", ...range }, 400, /funnel_id must be an integer/],
    ["no funnel at all", "funnels", { ...range }, 400, /funnel_id is required/],
    ["ad-hoc steps that are not JSON", "funnels", { steps: "[{event:", ...range }, 400, /steps must be a JSON list/],
    ["an ad-hoc funnel of one step", "funnels", { steps: '[{"event":"A"}]', ...range }, 400, /steps: .*at least 2 steps/],
    ["a step where that does not parse", "funnels", { steps: '[{"event":"A"},{"event":"B","where":"1 +"}]', ...range }, 400, /steps: \[1\]\.where: not a valid expression: column 4/],
    ["a window longer than 90 days", "funnels", { funnel_id: "1", ...range, length: "91", length_unit: "day" }, 400, /longer than 90 days \(limit QUERY_MAX_FUNNEL_WINDOW_DAYS\)/],
    ["an unknown length_unit", "funnels", { funnel_id: "1", ...range, length: "2", length_unit: "week" }, 400, /length_unit must be one of day, hour, minute, second/],
    ["birth retention without born_event", "retention", { ...range }, 400, /^born_event is required$/],
    ["an unknown retention_type", "retention", { ...range, retention_type: "rolling", born_event: "A" }, 400, /retention_type must be one of birth, compounded/],
    ["unbounded_retention that is not a boolean", "retention", { ...range, born_event: "A", unbounded_retention: "maybe" }, 400, /unbounded_retention must be true or false/],
    ["too many retention intervals", "retention", { ...range, born_event: "A", interval_count: "400" }, 400, /more than 366 \(limit QUERY_MAX_RETENTION_INTERVALS\)/],
    ["an export event list that is not JSON", "export", { ...range, event: "Viewed" }, 400, /event must be a JSON list of strings/],
    ["an export limit over 100,000", "export", { ...range, limit: "100001" }, 400, /limit may not be more than 100000/],
    ["a project_id that is not an integer", "segmentation", { event: "Viewed", ...range, project_id: "abc" }, 400, /project_id must be an integer/],
    ["engage page > 0 without session_id", "engage", { page: "2" }, 400, /session_id/],
    ["engage of group profiles", "engage", { data_group_id: "1" }, 400, /data_group_id is not supported/],
    ["events/properties/values without name", "events/properties/values", { event: "Viewed" }, 400, /^name is required$/],
    ["a huge range", "segmentation", { event: "Viewed", from_date: "2020-01-01", to_date: "2026-10-17" }, 400, /spans 2482 days, more than 732 \(limit QUERY_MAX_RANGE_DAYS\)/],
    ["minute buckets over a month", "segmentation", { event: "Viewed", from_date: iso(0), to_date: iso(20), unit: "minute" }, 400, /30240 time buckets, more than 10000 \(limit QUERY_MAX_BUCKETS\)/],
  ];
  it.each(cases)("%s (%s) → %i", async (_name, path, params, status, message) => {
    const answer = await ask(service, path, params);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatch(message);
    expect(answer.body.request).toMatch(new RegExp(`^/api/query/${path.replace("/", "\\/")}\\?`));
  });

  it("an unknown path is 404, another method 405, an oversized body 413, a bad JSON body 400", async () => {
    expect((await ask(service, "segmentation/numeric")).status).toBe(404);
    expect((await ask(service, "/api/2.0/jql")).status).toBe(404);
    expect((await ask(service, "funnels/list", {}, { method: "DELETE" })).status).toBe(405);
    expect((await ask(service, "engage", {}, { method: "POST", body: "x".repeat(1_100_000) })).status).toBe(413);
    const badJson = await ask(service, "engage", {}, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatch(/not valid JSON/);
  });
});

describe("limits as data: each answers as its table says", () => {
  it.each([
    ["rows read (QUERY_MAX_ROWS=50)", "segmentation", { event: "Viewed", from_date: iso(0), to_date: iso(20) }, /reads more than 50 events \(limit QUERY_MAX_ROWS\)/],
    ["people (QUERY_MAX_PEOPLE=5)", "segmentation", { event: "Signed up", from_date: iso(0), to_date: iso(20), type: "unique" }, /more than 5 people \(limit QUERY_MAX_PEOPLE\)/],
    ["segments (QUERY_MAX_SEGMENTS=2)", "segmentation", { event: "Signed up", from_date: iso(0), to_date: iso(20), on: "properties[\"$insert_id\"]" }, /more than 2 distinct values in this range \(limit QUERY_MAX_SEGMENTS\)/],
    ["range (QUERY_MAX_RANGE_DAYS=31)", "retention", { born_event: "Viewed", from_date: iso(0), to_date: "2026-12-01" }, /more than 31 \(limit QUERY_MAX_RANGE_DAYS\)/],
    ["buckets (QUERY_MAX_BUCKETS=100)", "segmentation", { event: "Viewed", from_date: iso(0), to_date: iso(7), unit: "hour" }, /192 time buckets, more than 100/],
  ])("%s → 400", async (name, path, params, message) => {
    const answer = await ask(name.startsWith("people") ? fewPeople : tight, path, params as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(message);
  });

  describe("time and concurrency, against an InfluxDB that never answers", () => {
    let stalled: Server;
    let query: RunningQuery;
    const hanging: Array<() => void> = [];
    beforeAll(async () => {
      stalled = createServer((request, response) => {
        // The catalog (SHOW ... as a POST) answers at once: no columns yet; every SELECT hangs.
        if (request.method === "POST") {
          response.writeHead(200, { "Content-Type": "application/json" });
          response.end(JSON.stringify({ results: [{ statement_id: 0 }, { statement_id: 1 }] }));
          return;
        }
        hanging.push(() => response.destroy());
      });
      await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
      const settings = readQuerySettings({
        PORT: "0",
        METRICS_PORT: "0",
        MIXSTACK_LISTEN_HOST: "127.0.0.1",
        INFLUX_URL: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`,
        REDIS_URL: pipeline.redis.url,
        MIXSTACK_QUERY_SECRET: "stall-secret",
        QUERY_TIMEOUT_MS: "700",
        QUERY_MAX_CONCURRENT: "2",
      });
      query = await startQuery(settings, pino({ level: "silent" }));
    });
    afterAll(async () => {
      await query?.stop();
      for (const end of hanging) end();
      stalled?.closeAllConnections();
      await new Promise((resolve) => stalled?.close(resolve));
    });

    it("a query over its time limit answers 504; one too many at once 429 with Retry-After", async () => {
      const get = (path: string) => fetch(`${query.url}${path}`, { headers: { Authorization: `Basic ${Buffer.from("stall-secret:").toString("base64")}` } });
      const path = `/api/query/segmentation?event=Viewed&from_date=${day}&to_date=${day}`;
      const slow = [get(path), get(path)];
      await new Promise((resolve) => setTimeout(resolve, 150));
      const third = await get(path);
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toBe("1");
      expect(((await third.json()) as any).error).toMatch(/too many queries at once \(at most 2, QUERY_MAX_CONCURRENT\)/);
      // Cheap endpoints are not held back by the heavy ones.
      expect((await get("/api/query/funnels/list")).status).toBe(200);
      for (const response of await Promise.all(slow)) {
        expect(response.status).toBe(504);
        expect(((await response.json()) as any).error).toMatch(/longer than its limit of 700 ms \(QUERY_TIMEOUT_MS\)/);
      }
      // The slots are free again.
      const again = await get(path);
      expect(again.status).toBe(504);
    });
  });
});

describe("fuzzing", () => {
  it("10,000 random requests get 2xx/4xx answers only, and the service still answers afterwards", async () => {
    const random = seededRandom(1414);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const paths = ["segmentation", "segmentation/sum", "segmentation/average", "funnels", "funnels/list", "retention", "export", "engage", "events/names", "events/properties/top", "events/properties/values", "nope", "segmentation/x"];
    const names = ["event", "from_date", "to_date", "on", "where", "unit", "type", "limit", "interval", "funnel_id", "steps", "length", "length_unit", "retention_type", "born_event", "born_where", "interval_count", "unbounded_retention", "format", "name", "page", "session_id", "distinct_ids", "output_properties", "time_in_ms", "project_id"];
    const junk = () =>
      pick([
        "", "Viewed", "Signed up", day, iso(10), "2026-13-01", "1970-01-01", "9999-12-31", "-1", "0", "1", "7", "1e9", "NaN", "[]", "[\"Viewed\"]", "{}", "null",
        'properties["plan"]', 'properties["amount"] > 100', 'not defined(user["x"])', "(((", '"unterminated', "\u0000", "%", "day", "week", "minute", "unique", "rows", "csv", "birth", "compounded",
        '[{"event":"Viewed"},{"event":"Signed up"}]', String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(random() * 0x2fff))), "x".repeat(Math.floor(random() * 3000)),
      ]);
    const statuses = new Map<number, number>();
    let next = 0;
    const total = 10_000;
    const worker = async () => {
      while (next < total) {
        next += 1;
        const params: Record<string, string> = {};
        const count = Math.floor(random() * 6);
        for (let n = 0; n < count; n += 1) params[pick(names)] = junk();
        if (random() < 0.5) Object.assign(params, { from_date: day, to_date: day });
        const prefix = random() < 0.5 ? "/api/query/" : "/api/2.0/";
        const post = random() < 0.2;
        const answer = post
          ? await ask(service, `${prefix}${pick(paths)}`, {}, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params).toString() })
          : await ask(service, `${prefix}${pick(paths)}`, params);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) throw new Error(`${answer.status} for ${JSON.stringify(params)}: ${answer.text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(total);
    expect(statuses.get(200), "some fuzzed requests are valid").toBeGreaterThan(100);
    expect(statuses.get(400), "most are not").toBeGreaterThan(1000);
    expect(service.process.running).toBe(true);
    const after = await ask(service, "segmentation", { event: "Viewed", from_date: day, to_date: day });
    expect(after.status).toBe(200);
  }, 240_000);
});

describe("mixstack report", () => {
  async function report(argv: string[], outputs?: Record<string, unknown>) {
    let out = "";
    let err = "";
    const command = makeReportCommand({
      env: {},
      write: (text) => (out += text),
      writeError: (text) => (err += text),
      outputs: outputs ? () => ({ read: async () => outputs }) : undefined,
    });
    const code = await command.run(argv);
    return { code, out, err };
  }
  const at = () => ["--url", service.url, "--secret", service.secret];
  const span = ["--from", iso(0), "--to", iso(20)];

  it("segment: --json is the Query API's answer; the table shows each date and the total", async () => {
    const json = await report(["segment", ...at(), "--event", "Viewed", ...span, "--type", "unique", "--json"]);
    expect(json.code).toBe(0);
    const api = await ask(service, "segmentation", { event: "Viewed", from_date: iso(0), to_date: iso(20), type: "unique" });
    expect(JSON.parse(json.out)).toEqual(api.body);
    const text = await report(["segment", ...at(), "--event", "Viewed", ...span, "--type", "unique"]);
    const values = api.body.data.values.Viewed as Record<string, number>;
    const total = Object.values(values).reduce((a, b) => a + b, 0);
    expect(text.out).toMatch(new RegExp(`^total\\s+${total}$`, "m"));
    expect(text.out).toMatch(new RegExp(`^${iso(3)}\\s+${values[iso(3)]}$`, "m"));
  });

  it("funnel over the whole range (one bucket) and retention as tables", async () => {
    const funnel = await report(["funnel", ...at(), "--steps", "Viewed,Signed up", ...span, "--window", "7d"]);
    expect(funnel.code, funnel.err).toBe(0);
    const api = await ask(service, "funnels", { steps: '[{"event":"Viewed"},{"event":"Signed up"}]', from_date: iso(0), to_date: iso(20), interval: 21, length: 7, length_unit: "day" });
    const steps = api.body.data[iso(0)].steps as Array<{ count: number }>;
    expect(funnel.out).toMatch(new RegExp(`^1\\. Viewed\\s+${steps[0]!.count}\\s+100\\.0%`, "m"));
    expect(funnel.out).toMatch(new RegExp(`^2\\. Signed up\\s+${steps[1]!.count}\\s`, "m"));
    const retention = await report(["retention", ...at(), "--born-event", "Signed up", ...span, "--intervals", "3"]);
    expect(retention.code, retention.err).toBe(0);
    expect(retention.out).toMatch(/^cohort\s+people\s+0\s+1\s+2\s+3$/m);
  });

  it("--stack reads the stack's queryUrl/querySecret outputs, and says so when the stack has no query service yet", async () => {
    const missing = await report(["segment", "--stack", "local", "--event", "Viewed", ...span], { ingestUrl: "http://localhost:8080" });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/stack local does not deploy the query service yet/);
    const deployed = await report(["segment", "--stack", "local", "--event", "Viewed", ...span, "--json"], { queryUrl: service.url, querySecret: service.secret });
    expect(deployed.code, deployed.err).toBe(0);
    expect(JSON.parse(deployed.out).data.series.length).toBe(21);
  });

  it("bad arguments exit 2 with the usage; a refused query exits 1 with the service's message", async () => {
    expect((await report(["segment", ...at(), "--event", "Viewed"])).err).toMatch(/--from is required/);
    expect((await report(["sideways", ...at(), ...span])).code).toBe(2);
    expect((await report(["funnel", ...at(), ...span])).err).toMatch(/--funnel-id or --steps is required/);
    expect((await report(["segment", "--event", "Viewed", ...span])).code).toBe(2);
    const refused = await report(["segment", ...at(), "--event", "Viewed", ...span, "--where", "1 +"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/answered 400: where: column 4/);
  });
});
