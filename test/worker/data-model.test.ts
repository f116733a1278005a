import { beforeAll, describe, expect, it } from "vitest";
import { quoteString, type InfluxClient } from "../../services/core/influx";
import { hashOffset, NAME_BACKSLASH, NAME_NEWLINE } from "../../services/core/line-protocol";
import { encodeEntry, type EventItem } from "../../services/core/queue";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { redisClient } from "../harness/services";
import { countEvents, influxOf, makeEvents, post, sendEvents, startTestPipeline, waitForCount, waitForDrained, type MixpanelEvent } from "./support";

/**
 * The storage model of DESIGN §4 through the whole pipeline: what a hostile name or value becomes,
 * what a property that changes type costs, and the seed's query over a week of data.
 */
describe("data model through ingest and the worker", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;
  const db = () => pipeline.database;

  beforeAll(async () => {
    pipeline = await startTestPipeline({
      // The seeded week of events goes through /track, which keeps 5 days by default.
      ingestEnv: { MIXSTACK_STATS_INTERVAL_MS: "500", MIXSTACK_TRACK_MAX_AGE_DAYS: "0" },
      workerEnv: { WORKER_SAMPLE_INTERVAL_MS: "500" },
    });
    influx = influxOf(pipeline);
  });

  async function measurementNames(): Promise<string[]> {
    const [result] = await influx.query("SHOW MEASUREMENTS", { db: db() });
    return (result?.series?.[0]?.values ?? []).map(([name]) => String(name)).sort();
  }

  async function seriesCount(): Promise<number> {
    const [result] = await influx.query('SHOW SERIES FROM "events"', { db: db() });
    return result?.series?.[0]?.values?.length ?? 0;
  }

  async function rowByInsertId(insertId: string): Promise<Record<string, unknown>> {
    const rows = await influx.rows(`SELECT * FROM "events" WHERE "insert_id" = ${quoteString(insertId)}`, { db: db() });
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it("names, keys and values with , = \" \\ spaces, unicode and emoji read back exactly; no extra measurement, series or point appears", async () => {
    const hostile = [
      'a,b=c d"e',
      "back\\slash",
      "\\leading backslash",
      "ünïcödé ✓",
      "emoji 😀🎉",
      "  spaces  around  ",
      "quote's \"double\"",
      "#not a comment",
      "equals=at,the=end",
    ];
    await sendEvents(pipeline, makeEvents("warm-up-model", 1));
    await waitForCount(() => countEvents(influx, db(), `"event" = 'warm-up-model'`), 1);
    const seriesBefore = await seriesCount();

    const events: MixpanelEvent[] = hostile.map((name, index) => ({
      event: name,
      properties: {
        distinct_id: name,
        $insert_id: `hostile-${index}`,
        time: Date.now() - 1000 + index,
        [name]: name,
        "value with newline": `line one\nline two, ${name}`,
        "value with quotes": `he said "hi" \\ she said 'bye'`,
      },
    }));
    await sendEvents(pipeline, events);
    await waitForCount(() => countEvents(influx, db(), `"insert_id" =~ /^hostile-/`), hostile.length);
    await waitForDrained(pipeline);

    const [tagValues] = await influx.query('SHOW TAG VALUES FROM "events" WITH KEY = "event"', { db: db() });
    const storedNames = (tagValues?.series?.[0]?.values ?? []).map(([, value]) => value);
    // Ingest trims event names (its choice); everything else is stored as sent.
    for (const name of hostile) expect(storedNames).toContain(name.trim());
    for (const [index, name] of hostile.entries()) {
      const row = await rowByInsertId(`hostile-${index}`);
      expect(row.event).toBe(name.trim());
      expect(row.distinct_id).toBe(name);
      expect(row[name]).toBe(name);
      expect(row["value with newline"]).toBe(`line one\nline two, ${name}`);
      expect(row["value with quotes"]).toBe(`he said "hi" \\ she said 'bye'`);
    }
    expect(await countEvents(influx, db(), `"insert_id" =~ /^hostile-/`)).toBe(hostile.length);
    expect(await seriesCount()).toBe(seriesBefore + hostile.length);
    // Only the schema's measurements exist, whatever the names sent.
    for (const name of await measurementNames()) expect(["events", "identity_merges", "ingest", "ingest_rejects", "pipeline", "profile_updates"]).toContain(name);
  });

  it("a newline in a name: ingest turns it into a space (control characters), a value keeps it", async () => {
    await sendEvents(pipeline, [{ event: "two\nlines", properties: { distinct_id: "nl", $insert_id: "newline-1", "key\nwith newline": "v\nv" } }]);
    await waitForCount(() => countEvents(influx, db(), `"insert_id" = 'newline-1'`), 1);
    const row = await rowByInsertId("newline-1");
    expect(row.event).toBe("two lines");
    expect(row["key with newline"]).toBe("v\nv");
  });

  it("entries from another producer (not cleaned by ingest): a newline or trailing backslash in a name becomes ␤ / ＼ and costs nothing else", async () => {
    const redis = await redisClient(pipeline.redis.url);
    const time = Date.now() - 500;
    const items: EventItem[] = [
      { event: "raw\nname\\", time, insertId: "raw-1", distinctId: "r", properties: { "k\ney\\": "v\n\\", ok: 1 } },
      { event: "raw-ok", time: time + 1, insertId: "raw-2", distinctId: "r", properties: { fine: true } },
    ];
    await redis.xAdd("mx:stream", "*", encodeEntry({ kind: "import", items, received: Date.now() }));
    await waitForCount(() => countEvents(influx, db(), `"insert_id" =~ /^raw-/`), 2);
    const row = await rowByInsertId("raw-1");
    expect(row.event).toBe(`raw${NAME_NEWLINE}name${NAME_BACKSLASH}`);
    expect(row[`k${NAME_NEWLINE}ey${NAME_BACKSLASH}`]).toBe("v\n\\");
    expect(row.ok).toBe(1);
    expect((await rowByInsertId("raw-2")).fine).toBe(true);
    await redis.close();
  });

  it("a property sent as a number and later as a string loses none of the other events", async () => {
    const numbers = makeEvents("type-change", 300, (index) => ({ plan: index, keep: "a" }));
    const strings = makeEvents("type-change-2", 300, (index) => ({ plan: `plan-${index}`, keep: "b" })).map((event) => ({ ...event, event: "type-change" }));
    const mixed = makeEvents("type-change-3", 300, (index) => ({ plan: index % 2 ? index : `s${index}`, keep: "c" })).map((event) => ({ ...event, event: "type-change" }));
    await sendEvents(pipeline, numbers);
    await waitForCount(() => countEvents(influx, db(), `"event" = 'type-change'`), 300);
    await sendEvents(pipeline, strings);
    await sendEvents(pipeline, mixed, { batchSize: 300 });
    await waitForCount(() => countEvents(influx, db(), `"event" = 'type-change'`), 900);
    await waitForDrained(pipeline);
    const [counts] = await influx.rows(`SELECT count("plan") AS numbers, count("plan:string") AS strings, count("keep") AS kept FROM "events" WHERE "event" = 'type-change'`, { db: db() });
    expect(counts).toMatchObject({ numbers: 450, strings: 450, kept: 900 });
  });

  it("a field another writer created after the worker started: its type is learnt from InfluxDB's answer and the batch rewritten, losing nothing", async () => {
    // The worker read the field types at start; this field appears later, behind its back.
    await influx.write(`events,event=late-type insert_id="late-direct",late_field=1 ${BigInt(Date.now() - 60_000) * 1_000_000n}`, { db: db() });
    const events = makeEvents("late-type", 120, (index) => ({ late_field: `text-${index}`, other: index }));
    await sendEvents(pipeline, events, { batchSize: 40 });
    await waitForCount(() => countEvents(influx, db(), `"event" = 'late-type'`), 121);
    const [counts] = await influx.rows(
      `SELECT count("late_field") AS numbers, count("late_field:string") AS strings, count("other") AS others FROM "events" WHERE "event" = 'late-type'`,
      { db: db() },
    );
    expect(counts).toMatchObject({ numbers: 1, strings: 120, others: 120 });
  });

  it("two different events of one batch that would land on the same nanosecond are both kept", async () => {
    // Find two insert ids whose offsets collide (a 1-in-10^6 event per pair; a few thousand ids suffice).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let index = 0; !pair; index += 1) {
      const id = `collide-${index}`;
      const offset = hashOffset(id, 1_000_000);
      const other = seen.get(offset);
      if (other) pair = [other, id];
      else seen.set(offset, id);
    }
    const time = Date.now() - 2000 + 123 - ((Date.now() - 2000) % 1000); // a millisecond with a sub-second part
    await sendEvents(
      pipeline,
      pair.map((id) => ({ event: "same-ns", properties: { distinct_id: id, $insert_id: id, time } })),
    );
    await waitForCount(() => countEvents(influx, db(), `"event" = 'same-ns'`), 2);
  });

  it("2,000 events of one whole second in one batch (an SDK that sends seconds) are 2,000 points", async () => {
    const second = Math.floor((Date.now() - 10_000) / 1000);
    const events = Array.from({ length: 2000 }, (_, index) => ({ event: "one-second", properties: { distinct_id: `s${index}`, $insert_id: `one-second-${index}`, time: second } }));
    await sendEvents(pipeline, events, { batchSize: 2000 });
    await waitForCount(() => countEvents(influx, db(), `"event" = 'one-second'`), 2000);
    const [first] = await influx.rows(`SELECT "insert_id" FROM "events" WHERE "event" = 'one-second' ORDER BY time ASC LIMIT 1`, { db: db(), epoch: "ms" });
    const [last] = await influx.rows(`SELECT "insert_id" FROM "events" WHERE "event" = 'one-second' ORDER BY time DESC LIMIT 1`, { db: db(), epoch: "ms" });
    // Spread over the second they were sent with, never outside it.
    expect(Math.floor(Number(first?.time) / 1000)).toBe(second);
    expect(Math.floor(Number(last?.time) / 1000)).toBe(second);
    expect(Number(last?.time) - Number(first?.time)).toBeGreaterThan(900);
  });

  it("the seed's query refuses the /signup/i spelling (InfluxQL has no regex flags)", async () => {
    await expect(influx.query(`select count(distinct("distinct_id")) from events where time > now() - 7d and event =~ /signup/i group by time(1d)`, { db: db() })).rejects.toThrow(
      /error parsing query/,
    );
  });

  it("the seed's query returns the expected distinct sign-ups per day over a seeded week of ~1,000 users", async () => {
    const now = Date.now();
    const day = 86_400_000;
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    // Away from both ends of the window, so that the query's own now() does not move an event in or out.
    const timeInWeek = () => Math.round(now - 7 * day + 3_600_000 + random() * (7 * day - 2 * 3_600_000));
    const events: MixpanelEvent[] = [];
    const signupsByDay = new Map<number, Set<string>>();
    const signedUp = (user: string, time: number) => {
      const bucket = Math.floor(time / day) * day;
      if (!signupsByDay.has(bucket)) signupsByDay.set(bucket, new Set());
      signupsByDay.get(bucket)!.add(user);
    };
    let insert = 0;
    const id = () => `seed-${(insert += 1)}`;
    for (let user = 0; user < 1000; user += 1) {
      const userId = `user-${user}`;
      for (let count = Math.floor(random() * 12); count > 0; count -= 1) {
        const name = ["click", "view", "post"][Math.floor(random() * 3)]!;
        events.push({ event: name, properties: { distinct_id: userId, $insert_id: id(), time: timeInWeek() } });
      }
      if (random() < 0.6) {
        const time = timeInWeek();
        if (user % 10 === 0) {
          // Signed up anonymously, identified later in the same SDK batch (sent out of order): the
          // merge is applied before the batch's events are resolved, so the sign-up counts for the user.
          const device = `device-${user}`;
          events.push({ event: "$identify", properties: { distinct_id: userId, $device_id: device, $user_id: userId, $insert_id: id(), time: time + 5000 } });
          events.push({ event: "Signup", properties: { distinct_id: `$device:${device}`, $device_id: device, $insert_id: id(), time } });
        } else {
          events.push({ event: "signup", properties: { distinct_id: userId, $insert_id: id(), time } });
        }
        signedUp(userId, time);
        // Anonymous sign-ups are followed by an identified one: counted once only if identity resolved.
        if (user % 10 === 0 || random() < 0.2) {
          // The same user signing up again (the same day, mostly) is counted once per day.
          const again = Math.min(time + 60_000, now - 3_600_000);
          events.push({ event: "signup", properties: { distinct_id: userId, $insert_id: id(), time: again } });
          signedUp(userId, again);
        }
      }
    }
    await sendEvents(pipeline, events);
    const seeded = events.filter((event) => event.properties.$insert_id && String(event.properties.$insert_id).startsWith("seed-")).length;
    await waitForCount(() => countEvents(influx, db(), `"insert_id" =~ /^seed-/`), seeded);
    await waitForDrained(pipeline);

    // The seed's query, with its case-insensitive match written the way InfluxQL (Go RE2) spells it:
    // InfluxQL regex literals take no trailing flags, so `/signup/i` does not parse; `/(?i)signup/` does.
    const rows = await influx.rows(
      `select count(distinct("distinct_id")) from events where time > now() - 7d and event =~ /(?i)signup/ group by time(1d)`,
      { db: db(), epoch: "ms" },
    );
    const actual = rows.filter((row) => Number(row.count) > 0).map((row) => [Number(row.time), Number(row.count)]);
    const expected = [...signupsByDay.entries()].sort(([a], [b]) => a - b).map(([bucket, users]) => [bucket, users.size]);
    expect(actual).toEqual(expected);
    expect(expected.reduce((sum, [, users]) => sum + users!, 0)).toBeGreaterThan(500);
  });

  it("user_type: new on the UTC day of a user's first event, returning on later days; no tag without a user", async () => {
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const at = (daysAgo: number) => today - daysAgo * day + 3_600_000 + 123;
    const events: MixpanelEvent[] = [
      { event: "typed", properties: { distinct_id: "ut-a", $insert_id: "ut-1", time: at(2) } },
      { event: "typed", properties: { distinct_id: "ut-a", $insert_id: "ut-2", time: at(2) + 1000 } },
      { event: "typed", properties: { distinct_id: "ut-a", $insert_id: "ut-3", time: at(1) } },
      { event: "typed", properties: { distinct_id: "ut-b", $insert_id: "ut-4", time: at(1) } },
      { event: "typed", properties: { $insert_id: "ut-5", time: at(1) } },
    ];
    await sendEvents(pipeline, events.slice(0, 2));
    await sendEvents(pipeline, events.slice(2));
    await waitForCount(() => countEvents(influx, db(), `"event" = 'typed'`), 5);
    const rows = await influx.rows(`SELECT "insert_id" FROM "events" WHERE "event" = 'typed' GROUP BY "user_type"`, { db: db() });
    const typeOf = Object.fromEntries(rows.map((row) => [row.insert_id, row.user_type]));
    expect(typeOf).toEqual({ "ut-1": "new", "ut-2": "new", "ut-3": "returning", "ut-4": "new", "ut-5": "" });
    const redis = await redisClient(pipeline.redis.url);
    expect(await redis.hGet("mx:first_seen", "ut-a")).toBe(new Date(at(2)).toISOString().slice(0, 10));
    await redis.close();
  });

  it("a /track event received long after its time starts a person's first day, but never moves a known one back", async () => {
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    // This pipeline's ingest keeps no /track age limit, as a stack that turned it off would.
    await sendEvents(pipeline, [{ event: "late", properties: { distinct_id: "late-a", $insert_id: "late-1", time: Date.now() } }]);
    await waitForCount(() => countEvents(influx, db(), `"event" = 'late'`), 1);
    await sendEvents(pipeline, [
      { event: "late", properties: { distinct_id: "late-a", $insert_id: "late-2", time: today - 30 * day } },
      { event: "late", properties: { distinct_id: "late-b", $insert_id: "late-3", time: today - 30 * day } },
    ]);
    await waitForCount(() => countEvents(influx, db(), `"event" = 'late'`), 3);
    const redis = await redisClient(pipeline.redis.url);
    expect(await redis.hGet("mx:first_seen", "late-a")).toBe(new Date(today).toISOString().slice(0, 10));
    expect(await redis.hGet("mx:first_seen", "late-b")).toBe(new Date(today - 30 * day).toISOString().slice(0, 10));
    await redis.close();
  });

  it("ingest's counters arrive as `ingest` and `ingest_rejects` points, the worker's own as `pipeline` points", async () => {
    const reply = await post(`${pipeline.ingestUrl}/track/?verbose=1`, [{ event: "no-token", properties: { distinct_id: "x" } }]);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 0 });
    await waitFor(
      "ingest_rejects points",
      async () => (await influx.rows(`SELECT sum("count") FROM "ingest_rejects" WHERE "reason" = 'missing_token'`, { db: db() }))[0]?.sum,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const [accepted] = await influx.rows(`SELECT sum("events_accepted") FROM "ingest" WHERE "route" = 'track'`, { db: db() });
    expect(Number(accepted?.sum)).toBeGreaterThan(0);
    const [fieldTypes] = await influx.query('SHOW FIELD KEYS FROM "ingest"', { db: db() });
    for (const [, type] of fieldTypes?.series?.[0]?.values ?? []) expect(type).toBe("integer");
    const samples = await waitFor(
      "pipeline samples",
      async () => {
        const rows = await influx.rows(`SELECT last("written"), last("stream_length"), last("dead_letters") FROM "pipeline" GROUP BY "consumer"`, { db: db() });
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(samples[0]).toMatchObject({ consumer: "dev-worker-1" });
  });

  it("the worker's health (written, batch time, backlog, lag, pending, dead letters) is in `pipeline` points and on /metrics", async () => {
    const metricsUrl = pipeline.workerMetricsUrls[0]!;
    const metrics = async () => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      return (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
    };
    // One entry the worker cannot read: the dead letters must show in both places.
    const redis = await redisClient(pipeline.redis.url);
    await redis.xAdd("mx:stream", "*", { v: "1", kind: "track", received: "1", items: "not json" });
    await redis.close();
    const [health] = await waitFor(
      "a pipeline sample counting the dead letter",
      async () => {
        const rows = await influx.rows(
          `SELECT sum("written") AS written, max("batch_ms") AS batch_ms, last("dead_letters") AS dead_letters, last("stream_length") AS stream_length, last("lag") AS lag, last("pending") AS pending FROM "pipeline" WHERE "consumer" = 'dev-worker-1'`,
          { db: db() },
        );
        return Number(rows[0]?.dead_letters) >= 1 ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(Number(health?.written)).toBeGreaterThan(0);
    expect(Number(health?.batch_ms)).toBeGreaterThan(0);
    expect(health).toMatchObject({ stream_length: expect.any(Number), lag: expect.any(Number), pending: expect.any(Number) });
    const [fieldTypes] = await influx.query('SHOW FIELD KEYS FROM "pipeline"', { db: db() });
    expect(Object.fromEntries(fieldTypes?.series?.[0]?.values ?? [])).toEqual({
      written: "integer",
      batch_ms: "float",
      stream_length: "integer",
      lag: "integer",
      pending: "integer",
      dead_letters: "integer",
      profiles: "integer",
      groups: "integer",
      refused: "integer",
      redis_used_bytes: "integer",
      redis_max_bytes: "integer",
    });

    const metric = await metrics();
    expect(metric("mixstack_worker_events_written_total")).toBeGreaterThan(0);
    expect(metric("mixstack_worker_batch_seconds_count")).toBeGreaterThan(0);
    expect(metric("mixstack_worker_write_seconds_count")).toBeGreaterThan(0);
    expect(metric("mixstack_worker_dead_letters_total")).toBeGreaterThanOrEqual(1);
    expect(metric("mixstack_worker_dead_letter_stream_length")).toBeGreaterThanOrEqual(1);
    for (const gauge of ["mixstack_worker_stream_length", "mixstack_worker_lag", "mixstack_worker_pending", "mixstack_worker_influx_up"]) {
      expect(metric(gauge), gauge).not.toBeNaN();
    }
  });
});
