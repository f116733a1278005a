import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import { countRemaining, erasePersonPoints, nanosOf, personLayouts, pointsInShard, shardsToScan, type StoredPoint } from "../../services/ops/person-points";
import { influxClient, startTestInflux } from "../harness/services";

/**
 * DELETE by series and exact time against a real influxd: the person's points go, and every other
 * point stays, including those of the same series a nanosecond away, of another series at the same
 * nanosecond, and of the same tags minus one. Checked against the points this test wrote.
 */

const DB = "people";
/** Small pages, so that a few hundred points need several (the real size is PAGE). */
const PAGE_SIZE = 101;
const BASE = 1_790_000_000_000n * 1_000_000n; // ns, 2026-09-21
const WEEK = 7n * 86_400n * 1_000_000_000n;
let client: InfluxClient;
const written: { line: string; theirs: boolean; key: string }[] = [];

function point(series: string, fields: string, time: bigint, theirs: boolean): void {
  written.push({ line: `${series} ${fields} ${time}`, theirs, key: `${series.split(",").slice(1).sort().join(",")} ${time}` });
}

/** Every point's tags and time, read back with the nanosecond. */
async function remaining(): Promise<string[]> {
  const rows = await client.rows('SELECT * FROM "events"', { db: DB });
  return rows
    .map((row) => {
      const tags = ["event", "mp_lib", "user_type"].filter((key) => row[key] !== null && row[key] !== undefined).map((key) => `${key}=${row[key]}`);
      return `${tags.sort().join(",")} ${nanosOf(String(row.time))}`;
    })
    .sort();
}

beforeAll(async () => {
  client = influxClient(await startTestInflux());
  await client.query(`CREATE DATABASE ${DB}`);
  // Pat, over three weekly shards, in two series that share every timestamp: several pages (of
  // PAGE_SIZE here) in the first shard, so pages end in the middle of a timestamp.
  for (let i = 0n; i < 300n; i += 1n) {
    const time = BASE + i * 1_000_000n;
    point("events,event=A,mp_lib=web", `distinct_id="pat",insert_id="a${i}"`, time, true);
    point("events,event=B,mp_lib=web", `distinct_id="$device:phone",$device_id="phone",insert_id="b${i}"`, time, true);
    // Somebody else, right beside Pat: the same series a nanosecond on, another series at the same time.
    point("events,event=A,mp_lib=web", `distinct_id="kim",insert_id="k${i}"`, time + 1n, false);
    if (i % 10n === 0n) point("events,event=A,mp_lib=web,user_type=new", `distinct_id="lee",insert_id="l${i}"`, time, false);
    if (i % 10n === 5n) point("events,event=A", `distinct_id="lee",insert_id="m${i}"`, time, false);
  }
  for (const week of [1n, 2n]) {
    point("events,event=A,mp_lib=web", `distinct_id="pat",insert_id="w${week}"`, BASE + week * WEEK, true);
    point("events,event=A,mp_lib=web", `distinct_id="kim",insert_id="x${week}"`, BASE + week * WEEK + 1n, false);
    // Pat by a numeric device id the worker wrote under the type-suffixed field.
    point("events,event=C", `distinct_id="",$device_id="d7",insert_id="s${week}"`, BASE + week * WEEK + 2n, false);
  }
  point("events,event=C", `distinct_id="",$device_id:float=77,insert_id="n1"`, BASE + 2n * WEEK + 5n, true);
  for (let start = 0; start < written.length; start += 5000) {
    await client.write(written.slice(start, start + 5000).map((entry) => entry.line).join("\n"), { db: DB });
  }
});

describe("erasePersonPoints on a real influxd", () => {
  it("reads every point of theirs once, across pages that split a timestamp", async () => {
    const [layout] = await personLayouts(client, DB);
    const [first] = await shardsToScan(client, DB);
    let found = 0;
    const keys = new Set<string>();
    const points: StoredPoint[] = [];
    for await (const page of pointsInShard(client, DB, first!, layout!, ["pat", "phone", "$device:phone"], "identity", PAGE_SIZE)) {
      for (const p of page) keys.add(`${p.tags.event} ${p.time}`);
      found += page.length;
      points.push(...page);
    }
    expect(found).toBe(600);
    expect(keys.size).toBe(600);
    // Each found point is found again by its series and time (what forget checks after its DELETEs).
    expect(await countRemaining(client, DB, points, layout!.tagKeys)).toBe(600);
    const elsewhere = points.slice(0, 5).map((p) => ({ ...p, time: p.time + 7n }));
    expect(await countRemaining(client, DB, elsewhere, layout!.tagKeys)).toBe(0);
  });

  it("deletes exactly their points, in every shard, and nobody else's", async () => {
    expect((await shardsToScan(client, DB)).length).toBe(3);
    const result = await erasePersonPoints(client, DB, ["pat", "phone", "$device:phone", "77"], { pageSize: PAGE_SIZE });
    const theirs = written.filter((entry) => entry.theirs).length;
    expect(result.deleted).toEqual({ events: theirs });
    // The UTC days that lost points, for the rollups to compute again: from the lines written here.
    const theirDays = new Set(written.filter((entry) => entry.theirs).map((entry) => new Date(Number(BigInt(entry.line.split(" ").at(-1)!) / 1_000_000n)).toISOString().slice(0, 10)));
    expect(result.days).toEqual([...theirDays].sort());
    expect(result.days.length).toBe(3);
    expect(await remaining()).toEqual(written.filter((entry) => !entry.theirs).map((entry) => entry.key).sort());
    const [layout] = await personLayouts(client, DB);
    const [first] = await shardsToScan(client, DB);
    expect(await countRemaining(client, DB, [{ rp: first!.rp, measurement: "events", tags: { event: "A", mp_lib: "web" }, time: BASE, fields: {} }], layout!.tagKeys)).toBe(0);
  });

  it("a second run finds nothing and deletes nothing", async () => {
    expect((await erasePersonPoints(client, DB, ["pat", "phone", "$device:phone", "77"])).deleted).toEqual({});
  });
});
