import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfluxClient } from "../../services/core/influx";
import { redisKeys } from "../../services/core/queue";
import { startPipeline, type Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { createRedis, type Redis } from "../../services/ops/redis-state";
import { scratchDir, track } from "../harness/services";
import { pipelineOpsEnv, runMixstack } from "../ops/fixtures";
import { base64, postUntilAccepted } from "../worker/support";

/**
 * The rollups through real processes (redis-server, influxd, `mixstack ingest`, `mixstack worker`
 * with its rollup job, `mixstack backup` / `restore`): whatever happens to the pipeline, every day's
 * `rollup_days` figures end up equal to the distinct counts of what was sent, computed here.
 * Each test builds on the events of the ones before.
 */

const dayMs = 86_400_000;
const today = Math.floor(Date.now() / dayMs);

interface Sent {
  distinctId: string;
  event: string;
  time: number;
}

let pipeline: Pipeline;
let influx: InfluxClient;
let redis: Redis;
let env: NodeJS.ProcessEnv;
const sent: Sent[] = [];
let sequence = 0;

/** `count` events of `people` (ids `<prefix>-<n>`) at `time`, through /track as the SDKs send them. */
async function sendEvents(prefix: string, people: number, count: number, time: number, event = "view"): Promise<void> {
  const batch: Array<{ event: string; properties: Record<string, unknown> }> = [];
  for (let n = 0; n < count; n += 1) {
    const distinctId = `${prefix}-${n % people}`;
    const at = time + n;
    batch.push({ event, properties: { token: pipeline.token, distinct_id: distinctId, time: at, $insert_id: `rollup-${++sequence}` } });
    sent.push({ distinctId, event, time: at });
  }
  for (let start = 0; start < batch.length; start += 50) await postUntilAccepted(`${pipeline.ingestUrl}/track?ip=0&verbose=1`, batch.slice(start, start + 50));
}

/** History sent to /import with the API secret, as a backfill script does. */
async function importHistory(prefix: string, people: number, count: number, time: number): Promise<void> {
  const batch = Array.from({ length: count }, (_, n) => {
    const distinctId = `${prefix}-${n % people}`;
    sent.push({ distinctId, event: "imported", time: time + n });
    return { event: "imported", properties: { distinct_id: distinctId, time: time + n, $insert_id: `rollup-${++sequence}` } };
  });
  const response = await fetch(`${pipeline.ingestUrl}/import?verbose=1`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${Buffer.from(`${pipeline.apiSecret}:`).toString("base64")}` },
    body: `data=${encodeURIComponent(base64(batch))}`,
  });
  expect(response.status, await response.text()).toBe(200);
}

/** What every day from the first one to today must show, from the events sent. */
function expectedDays(): Array<[number, number, number, number, number]> {
  const first = Math.min(...sent.map((one) => Math.floor(one.time / dayMs)));
  const rows: Array<[number, number, number, number, number]> = [];
  const people = (from: number, to: number) =>
    new Set(sent.filter((one) => Math.floor(one.time / dayMs) >= from && Math.floor(one.time / dayMs) <= to).map((one) => one.distinctId)).size;
  for (let day = first; day <= today; day += 1) {
    const events = sent.filter((one) => Math.floor(one.time / dayMs) === day).length;
    rows.push([day * dayMs, people(day, day), people(day - 6, day), people(day - 29, day), events]);
  }
  return rows;
}

async function rolledUpDays(): Promise<unknown[][]> {
  const first = Math.min(...sent.map((one) => Math.floor(one.time / dayMs)));
  const [result] = await influx.query(
    `SELECT last("dau") AS "dau", last("wau") AS "wau", last("mau") AS "mau", last("events") AS "events" FROM "rollup_days" WHERE time >= ${first * dayMs}ms AND time < ${(today + 1) * dayMs}ms GROUP BY time(1d) fill(0)`,
    { db: pipeline.database, epoch: "ms" },
  );
  return result?.series?.[0]?.values ?? [];
}

/** Waits until the rollups show exactly what was sent (the job runs every 200 ms). */
async function rollupsMatch(what: string): Promise<void> {
  const expected = expectedDays();
  let actual: unknown[][] = [];
  try {
    await waitFor(what, async () => {
      actual = await rolledUpDays();
      return JSON.stringify(actual) === JSON.stringify(expected);
    }, { timeoutMs: 90_000, intervalMs: 250 });
  } catch (error) {
    expect(actual, (error as Error).message).toEqual(expected);
  }
}

async function drained(): Promise<void> {
  await waitFor("the worker to write every event", async () => {
    const rows = await influx.rows(`SELECT count("insert_id") FROM "events"`, { db: pipeline.database });
    return rows[0]?.count === sent.length && (await redis.xLen(redisKeys.stream)) === 0;
  }, { timeoutMs: 90_000, intervalMs: 200 });
}

beforeAll(async () => {
  pipeline = await startPipeline({
    dir: scratchDir("rollups-pipeline"),
    workers: 1,
    ingestEnv: { MIXSTACK_GEOIP: "false" },
    workerEnv: { ROLLUP_INTERVAL_MS: "200" },
    onStarted: (process) => track(process),
  });
  influx = new InfluxClient({ url: pipeline.influx.url });
  redis = createRedis(pipeline.redis.url);
  redis.on("error", () => undefined);
  await redis.connect();
  env = pipelineOpsEnv(pipeline, "rollups");
  await sendEvents("regular", 20, 80, Date.now() - 60_000);
  await sendEvents("regular", 12, 30, Date.now() - dayMs);
}, 120_000);

afterAll(async () => {
  if (redis?.isOpen) await redis.close();
});

describe("rollups through the real pipeline", () => {
  it("the worker's job rolls up the days it wrote", async () => {
    await drained();
    await rollupsMatch("today and yesterday rolled up");
  });

  it("late events (an SDK's offline queue) re-open their day, and the rolling figures of the days after it", async () => {
    await sendEvents("offline", 6, 18, Date.now() - 3 * dayMs);
    await sendEvents("regular", 20, 10, Date.now() - 3 * dayMs, "click");
    await drained();
    await rollupsMatch("the day three days ago and the days after it re-computed");
  });

  it("an /import of history re-computes those days, and MAU counts the people imported 20 days back", async () => {
    await importHistory("history", 15, 60, Date.now() - 20 * dayMs);
    await importHistory("history", 40, 80, Date.now() - 45 * dayMs);
    await drained();
    await rollupsMatch("the imported days and the 29 after each re-computed");
  });

  it("survives a worker killed and restarted: the new process takes the job back and catches up", async () => {
    const [worker] = pipeline.workers;
    await worker!.kill();
    await sendEvents("while-down", 9, 27, Date.now() - 30_000);
    await sendEvents("while-down", 9, 9, Date.now() - 2 * dayMs);
    await worker!.start();
    await drained();
    await rollupsMatch("the events sent while the worker was down rolled up");
  });

  it("survives an InfluxDB outage: once InfluxDB is back, the queued events are written and rolled up", async () => {
    await pipeline.influx.stop();
    await sendEvents("outage", 7, 21, Date.now() - 20_000);
    await sendEvents("outage", 7, 7, Date.now() - 4 * dayMs);
    await pipeline.influx.start();
    await drained();
    await rollupsMatch("the events queued during the outage rolled up");
  });

  it("after a restore that brought back older rollup points, every day is computed again", async () => {
    const backup = await runMixstack(["backup", "--json"], env);
    expect(backup.code, backup.stderr).toBe(0);
    // After the backup: more events today and two days back, rolled up.
    await sendEvents("after-backup", 11, 22, Date.now() - 10_000);
    await sendEvents("after-backup", 11, 11, Date.now() - 2 * dayMs);
    await drained();
    await rollupsMatch("the events after the backup rolled up");
    const twoDaysBack = (today - 2) * dayMs;
    const dauOf = async (dayStart: number) =>
      (await influx.rows(`SELECT last("dau") FROM "rollup_days" WHERE time >= ${dayStart}ms AND time < ${dayStart + dayMs}ms`, { db: pipeline.database }))[0]?.last;
    const current = await dauOf(twoDaysBack);
    // The worker stopped, the restore merges the backup's points: two days back shows the backup's (older) figures...
    const [worker] = pipeline.workers;
    await worker!.stop();
    const restore = await runMixstack(["restore", "--from", "latest", "--json"], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await dauOf(twoDaysBack)).toBeLessThan(current as number);
    // ...until the worker is back and computes the days the restore reopened.
    await worker!.start();
    await rollupsMatch("the days the restore brought back re-computed");
  });

  it("after losing the database and Redis, a restore and the worker bring every day back", async () => {
    const backup = await runMixstack(["backup", "--json"], env);
    expect(backup.code, backup.stderr).toBe(0);
    const [worker] = pipeline.workers;
    await worker!.stop();
    await influx.query(`DROP DATABASE "${pipeline.database}"`);
    await redis.flushAll();
    const restore = await runMixstack(["restore", "--from", "latest", "--json"], env);
    expect(restore.code, restore.stderr).toBe(0);
    await worker!.start();
    await rollupsMatch("every day rolled up again from the restored events");
  });
});
