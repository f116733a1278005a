import { beforeAll, describe, expect, it } from "vitest";
import { InfluxClient } from "../../services/core/influx";
import { waitFor } from "../../services/dev/ports";
import type { Pipeline } from "../../services/dev/pipeline";
import type { QueryService } from "../../services/dev/query";
import * as brute from "./brute-force";
import { buildDataset, DAYS, iso, sendDataset, type Dataset } from "./dataset";
import { ask, startReports, startReportsPipeline } from "./support";

/**
 * `/api/2.0/export` → `/import` of an empty stack → export again: the same events (count, names,
 * distinct ids after merges, every property), and both equal to what was sent in the first place.
 */

interface Exported {
  event: string;
  properties: Record<string, unknown> & { time: number; distinct_id?: string; $insert_id: string };
}

let source: Pipeline;
let target: Pipeline;
let sourceQuery: QueryService;
let targetQuery: QueryService;
let dataset: Dataset;
const range = { from_date: iso(0), to_date: iso(DAYS + 6) };

const parseLines = (text: string) => text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Exported);
const byInsertId = (events: Exported[]) => [...events].sort((a, b) => (a.properties.$insert_id < b.properties.$insert_id ? -1 : 1));

beforeAll(async () => {
  [source, target] = await Promise.all([startReportsPipeline("query-export-source"), startReportsPipeline("query-export-target")]);
  dataset = buildDataset(5, 40);
  await sendDataset(source, dataset);
  [sourceQuery, targetQuery] = await Promise.all([startReports(source), startReports(target)]);
}, 180_000);

describe("export", () => {
  it("streams every stored event as Mixpanel's NDJSON: canonical distinct_id, $insert_id, time in s or ms, every property", async () => {
    const seconds = parseLines((await ask(sourceQuery, "/api/2.0/export", range)).text);
    const ms = parseLines((await ask(sourceQuery, "/api/2.0/export", { ...range, time_in_ms: true })).text);
    expect(ms.length).toBe(dataset.events.length);
    const sentById = new Map(brute.flatten(dataset.events, dataset.merges).map((event) => [event.properties.$insert_id as string, event]));
    for (const exported of ms) {
      const sent = sentById.get(exported.properties.$insert_id)!;
      expect(exported.event).toBe(sent.event);
      expect(exported.properties.time).toBe(sent.time);
      expect(exported.properties.distinct_id ?? "").toBe(sent.person);
      const { time: _t, distinct_id: _d, $insert_id: _i, ...properties } = exported.properties;
      const { time: _st, distinct_id: _sd, $insert_id: _si, ...sentProperties } = sent.properties;
      expect(properties, exported.properties.$insert_id).toEqual(sentProperties);
    }
    expect(byInsertId(seconds).map((event) => event.properties.time)).toEqual(byInsertId(ms).map((event) => Math.floor(event.properties.time / 1000)));
  });

  it("filters by an event list and a where, and gzips when asked", async () => {
    const answer = await fetch(`${sourceQuery.url}/api/2.0/export?${new URLSearchParams({ ...range, event: '["Paid","Other"]', where: 'properties["plan"] == "pro" or properties["amount"] > 100' })}`, {
      headers: { Authorization: sourceQuery.authorization, "Accept-Encoding": "gzip" },
    });
    expect(answer.headers.get("content-encoding")).toBe("gzip");
    const lines = parseLines(await answer.text());
    const expected = dataset.events.filter(
      (event) => ["Paid", "Other"].includes(event.event) && (event.properties.plan === "pro" || (event.properties.amount as number) > 100),
    );
    expect(lines.map((line) => line.properties.$insert_id).sort()).toEqual(expected.map((event) => event.properties.$insert_id).sort());
    expect(lines.length).toBeGreaterThan(10);
    const limited = parseLines((await ask(sourceQuery, "export", { ...range, limit: 7 })).text);
    expect(limited.length).toBe(7);
  });

  it("round trip: the export imported into an empty stack exports the same events", async () => {
    const first = parseLines((await ask(sourceQuery, "/api/2.0/export", { ...range, time_in_ms: true })).text);
    for (let start = 0; start < first.length; start += 500) {
      const response = await fetch(`${target.ingestUrl}/import?strict=1`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`${target.apiSecret}:`).toString("base64")}` },
        body: JSON.stringify(first.slice(start, start + 500)),
      });
      expect(response.status, await response.text()).toBe(200);
    }
    const reader = new InfluxClient({ url: target.influx.url, ...target.credentials.reader });
    await waitFor("the target's worker to write the import", async () => (await reader.rows(`SELECT count("insert_id") FROM "events"`, { db: target.database }))[0]?.count === first.length, {
      timeoutMs: 60_000,
    });
    const second = parseLines((await ask(targetQuery, "/api/2.0/export", { ...range, time_in_ms: true })).text);
    expect(second.length).toBe(first.length);
    expect(byInsertId(second)).toEqual(byInsertId(first));
    expect(new Set(second.map((event) => event.event))).toEqual(new Set(["Viewed", "Signed up", "Paid", "Other"]));
  });
});
