import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import { figures, importEvents, influxOf, startAbusePipeline, track, verboseStatus, waitForDrained } from "./support";

/**
 * Finding 6 of issue 12, "silent poisoning": keys `plan`, `plan:string`, `plan:string:string`, …
 * took every name the type policy would give a later string `plan`, so a legitimate
 * `{plan: "pro"}` was acknowledged `1` and stored as null; and an event dated 1971 for a victim
 * moved their first-seen day, so that they counted as "returning" forever.
 */

describe("abuse: poisoning", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;

  beforeAll(async () => {
    pipeline = await startAbusePipeline();
    influx = influxOf(pipeline);
  });

  it("keys ending in the type suffixes are refused, and a later string value stays readable", async () => {
    const poison = await track(pipeline, {
      event: "signup",
      properties: { token: pipeline.token, distinct_id: "mallory", $insert_id: "poison-1", plan: 1, "plan:string": 1, "plan:string:string": 1, "plan:string:string:string": 1 },
    });
    const legit = await track(pipeline, { event: "upgrade", properties: { token: pipeline.token, distinct_id: "alice", $insert_id: "legit-1", plan: "pro" } });
    await waitForDrained(pipeline);
    const rows = await influx.rows(`SELECT * FROM "events" WHERE "event" = 'upgrade'`, { db: pipeline.database });
    const stored = rows[0] ?? {};
    const planValues = Object.entries(stored).filter(([key]) => key.startsWith("plan")).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    figures("type-suffix-keys", { poison: poison.text, legit: legit.text, planColumns: planValues });

    expect(verboseStatus(poison)).toBe(0);
    expect(JSON.parse(poison.text).error).toMatch(/properties\.plan:string.*reserved/);
    expect(verboseStatus(legit)).toBe(1);
    expect(Object.values(stored)).toContain("pro");
  });

  it("an event dated 1971 does not move a person's first day: their events of today stay `new`", async () => {
    const today = (id: string) => ({ event: "visit", properties: { token: pipeline.token, distinct_id: "victim", $insert_id: id } });
    expect(verboseStatus(await track(pipeline, today("victim-1")))).toBe(1);
    await waitForDrained(pipeline);
    // 2 January 1971, in seconds as the SDKs send times.
    const ancient = { event: "visit", properties: { token: pipeline.token, distinct_id: "victim", time: 31_622_400, $insert_id: "victim-1971" } };
    const viaTrack = await track(pipeline, ancient);
    const viaImport = await importEvents(pipeline, [{ ...ancient, properties: { ...ancient.properties, $insert_id: "victim-1971-import" } }]);
    await waitForDrained(pipeline);
    expect(verboseStatus(await track(pipeline, today("victim-2")))).toBe(1);
    await waitForDrained(pipeline);
    const rows = await influx.rows(`SELECT "insert_id", "user_type" FROM "events" WHERE "distinct_id" = 'victim' AND time > now() - 1d`, { db: pipeline.database });
    figures("first-seen-1971", { viaTrack: viaTrack.text.slice(0, 120), viaImport: `${viaImport.status} ${viaImport.text.slice(0, 200)}`, rows });

    expect(rows.map((row) => [row.insert_id, row.user_type])).toEqual([
      ["victim-1", "new"],
      ["victim-2", "new"],
    ]);
  });
});
