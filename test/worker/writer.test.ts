import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { InfluxClient, InfluxError, type WriteOptions } from "../../services/core/influx";
import { toLine } from "../../services/core/line-protocol";
import { waitFor } from "../../services/dev/ports";
import { FieldTypes } from "../../services/worker/field-types";
import { lineBlock } from "../../services/worker/line-block";
import { isBeyondRetention, PointWriter, waitsForOperator, WriteStopped, type EntryLines } from "../../services/worker/writer";
import { influxClient, startTestInflux } from "../harness/services";
import type { Influxd } from "../../services/dev/processes";

const silent = pino({ level: "silent" });

function entry(id: string, build: () => string[]): EntryLines {
  return { id, lines: () => lineBlock(build()) };
}

/** An entry whose lines are built with the shared field types, the way the batch builds event lines. */
function typedEntry(id: string, types: FieldTypes, values: Array<[string, number | string | boolean, number]>): EntryLines {
  return entry(id, () =>
    values.map(([key, value, time]) => {
      const field = types.fieldFor("m", key, typeof value === "number" ? "float" : typeof value === "string" ? "string" : "boolean")!;
      return toLine({ measurement: "m", tags: { entry: id }, fields: { [field]: value, seq: time }, timestamp: String(time) }) as string;
    }),
  );
}

describe("PointWriter against a real influxd", () => {
  let influx: Influxd;
  let client: InfluxClient;
  let database = 0;

  beforeAll(async () => {
    influx = await startTestInflux();
    client = influxClient(influx);
  });

  async function freshDatabase(): Promise<string> {
    database += 1;
    const name = `w${database}`;
    await client.query(`CREATE DATABASE ${name}`);
    return name;
  }

  function writer(db: string, types = new FieldTypes(), options: { signal?: AbortSignal; maxPoints?: number } = {}) {
    return new PointWriter(client, {
      db,
      maxPoints: options.maxPoints ?? 5000,
      backoffMinMs: 50,
      backoffMaxMs: 400,
      types,
      log: silent,
      signal: options.signal ?? new AbortController().signal,
    });
  }

  it("learns a field type InfluxDB already holds and writes the conflicting values under a suffixed field, losing no point", async () => {
    const db = await freshDatabase();
    await client.write("m,entry=old plan=1 1", { db });
    const types = new FieldTypes(); // knows nothing, like a worker started before the field existed
    const outcome = await writer(db, types).write([
      typedEntry("a", types, [["plan", "pro", 10], ["plan", "free", 11]]),
      typedEntry("b", types, [["plan", 2, 12], ["other", true, 13]]),
    ]);
    expect(outcome.rejected.size).toBe(0);
    const rows = await client.rows('SELECT "seq", "plan", "plan:string", "other" FROM "m" WHERE time > 5', { db, epoch: "ns" });
    expect(rows).toEqual([
      { time: 10, seq: 10, plan: null, "plan:string": "pro", other: null },
      { time: 11, seq: 11, plan: null, "plan:string": "free", other: null },
      { time: 12, seq: 12, plan: 2, "plan:string": null, other: null },
      { time: 13, seq: 13, plan: null, "plan:string": null, other: true },
    ]);
    expect(types.typeOf("m", "plan")).toBe("float");
  });

  it("learns several conflicts of one batch, one per round, without looping", async () => {
    const db = await freshDatabase();
    await client.write("m a=1,b=1,c=1 1", { db });
    const types = new FieldTypes();
    const outcome = await writer(db, types).write([typedEntry("x", types, [["a", "s", 10], ["b", "s", 11], ["c", "s", 12]])]);
    expect(outcome.rejected.size).toBe(0);
    const [count] = await client.rows('SELECT count("seq") FROM "m" WHERE time > 5', { db });
    expect(count?.count).toBe(3);
  });

  it("isolates the entry InfluxDB refuses for good and writes every other entry", async () => {
    const db = await freshDatabase();
    const entries = Array.from({ length: 7 }, (_, index) => entry(`e${index}`, () => [`m,entry=e${index} v=${index} ${100 + index}`]));
    entries.splice(3, 0, entry("bad", () => ["m v=1 not-a-timestamp"]));
    const outcome = await writer(db).write(entries);
    expect([...outcome.rejected.keys()]).toEqual(["bad"]);
    expect(outcome.rejected.get("bad")).toMatch(/unable to parse/);
    const [count] = await client.rows('SELECT count("v") FROM "m"', { db });
    expect(count?.count).toBe(7);
  });

  it("reports entries older than the retention policy apart from refusals (dropped by design)", async () => {
    const db = await freshDatabase();
    await client.query(`ALTER RETENTION POLICY "autogen" ON ${db} DURATION 1h REPLICATION 1 SHARD DURATION 1h DEFAULT`);
    const now = BigInt(Date.now()) * 1_000_000n;
    const outcome = await writer(db).write([entry("old", () => ["m v=1 1000000000"]), entry("new", () => [`m v=2 ${now}`])]);
    expect([...outcome.beyondRetention]).toEqual(["old"]);
    expect(outcome.rejected.size).toBe(0);
  });

  it("splits a batch into gzipped /write requests of at most maxPoints lines, in order, losing none", async () => {
    const db = await freshDatabase();
    const requests: Array<{ lines: string[]; gzip: boolean | undefined }> = [];
    // The real client, recording what each request carries before sending it.
    const recording = new (class extends InfluxClient {
      override async write(body: string, options: WriteOptions): Promise<void> {
        requests.push({ lines: body.split("\n"), gzip: options.gzip });
        return super.write(body, options);
      }
    })(client.connection);
    const lines = Array.from({ length: 25 }, (_, index) => `m v=${index} ${1000 + index}`);
    const outcome = await new PointWriter(recording, {
      db,
      maxPoints: 10,
      backoffMinMs: 50,
      backoffMaxMs: 400,
      types: new FieldTypes(),
      log: silent,
      signal: new AbortController().signal,
    }).write([entry("first", () => lines.slice(0, 7)), entry("second", () => lines.slice(7))]);
    expect(outcome.lines).toBe(25);
    expect(requests.map((request) => request.lines.length)).toEqual([10, 10, 5]);
    expect(requests.every((request) => request.gzip === true)).toBe(true);
    expect(requests.flatMap((request) => request.lines)).toEqual(lines);
    const [count] = await client.rows('SELECT count("v") FROM "m"', { db });
    expect(count?.count).toBe(25);
  });

  it("holds the batch while InfluxDB is down and writes it once InfluxDB is back", async () => {
    const db = await freshDatabase();
    await influx.stop();
    let waits = 0;
    const retrying = new PointWriter(client, {
      db,
      maxPoints: 5000,
      backoffMinMs: 50,
      backoffMaxMs: 300,
      types: new FieldTypes(),
      log: silent,
      signal: new AbortController().signal,
      onWait: async () => {
        waits += 1;
      },
    }).write([entry("held", () => ["m v=1 1000"])]);
    await waitFor("a few retries while InfluxDB is down", () => waits >= 3, { timeoutMs: 30_000 });
    await influx.start();
    const outcome = await retrying;
    expect(outcome.rejected.size).toBe(0);
    const [count] = await client.rows('SELECT count("v") FROM "m"', { db });
    expect(count?.count).toBe(1);
  });

  it("gives the batch up (WriteStopped) when the worker stops while InfluxDB is down", async () => {
    const db = await freshDatabase();
    await influx.stop();
    const abort = new AbortController();
    let waits = 0;
    const stopped = new PointWriter(client, {
      db,
      maxPoints: 5000,
      backoffMinMs: 50,
      backoffMaxMs: 300,
      types: new FieldTypes(),
      log: silent,
      signal: abort.signal,
      onWait: async () => {
        waits += 1;
      },
    })
      .write([entry("held", () => ["m v=1 1000"])])
      .catch((error: unknown) => error);
    await waitFor("a retry", () => waits >= 1, { timeoutMs: 30_000 });
    abort.abort();
    expect(await stopped).toBeInstanceOf(WriteStopped);
    await influx.start();
  });
});

describe("which InfluxDB answers hold the batch (retried, never acknowledged) and which are about the data", () => {
  it.each<[string, number, boolean]>([
    ["not reached (refused, timeout)", 0, true],
    ["500", 500, true],
    ["503", 503, true],
    ["429 too many requests", 429, true],
    ["401 wrong credentials: an operator's fix, the data must wait", 401, true],
    ["403 no privilege yet", 403, true],
    ["404 database not created yet", 404, true],
    ["400 partial write: about the points", 400, false],
    ["413 too large: split, not waited for", 413, false],
  ])("%s", (_, status, waits) => {
    expect(waitsForOperator(new InfluxError("answer", status))).toBe(waits);
  });

  it.each([
    ['partial write: points beyond retention policy dropped=1', true],
    ['partial write: field type conflict: input field "plan" on measurement "events" is type string, already exists as type float dropped=1', false],
  ])("%s: beyond retention = %s", (message, expected) => {
    expect(isBeyondRetention(message)).toBe(expected);
  });
});
