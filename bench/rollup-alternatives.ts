import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { InfluxClient } from "../services/core/influx";
import { startInfluxd, startRedisServer } from "../services/dev/processes";
import { datasetNow, dayMs } from "../test/grafana/dataset";
import { writeProductEvents } from "./product-events";

/**
 * The designs the rollups did not take, measured on the dashboards' benchmark data (docs/dashboards.md,
 * "Why this design"): Redis HyperLogLog day sketches (their error against the exact DAU, WAU and MAU,
 * their memory per day) and per-day bitmaps over a person index (memory per day and per person).
 *
 *   npx tsx bench/rollup-alternatives.ts --users 100000
 */

const { values: options } = parseArgs({ options: { users: { type: "string", default: "100000" } } });
const users = Number(options.users);

async function usedMemory(redis: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-alternatives-"));
  const influxd = await startInfluxd({ dir: join(dir, "influxd") });
  const server = await startRedisServer({ dir: join(dir, "redis"), appendOnly: false });
  const redis = createClient({ url: server.url });
  await redis.connect();
  try {
    process.stdout.write(`rollup alternatives: ${users} users; load average ${loadavg().map((v) => v.toFixed(1)).join(" ")}\n`);
    const influx = new InfluxClient({ url: influxd.url, timeoutMs: 600_000 });
    await influx.query(`CREATE DATABASE "mixevents"`);
    const written = await writeProductEvents(users, (body) => influx.write(body, { db: "mixevents", gzip: true }));
    process.stdout.write(`wrote ${written.events} events in ${written.seconds.toFixed(1)} s\n`);

    const today = Math.floor(datasetNow / dayMs);
    const days: Array<Set<string>> = [];
    const index = new Map<string, number>();
    let sketchBytes = 0;
    let bitmapBytes = 0;
    for (let day = today - 40; day <= today; day++) {
      const rows = await influx.rows(`SELECT distinct("distinct_id") FROM "events" WHERE "distinct_id" != '' AND time >= ${day * dayMs}ms AND time < ${(day + 1) * dayMs}ms`, { db: "mixevents" });
      const ids = [...new Set(rows.map((row) => String(row.distinct)))];
      days.push(new Set(ids));
      for (let at = 0; at < ids.length; at += 1000) await redis.pfAdd(`sketch:${day}`, ids.slice(at, at + 1000));
      const bits: Array<Promise<unknown>> = [];
      for (const id of ids) {
        let bit = index.get(id);
        if (bit === undefined) index.set(id, (bit = index.size));
        bits.push(redis.setBit(`bits:${day}`, bit, 1));
      }
      await Promise.all(bits);
      sketchBytes += Number(await redis.sendCommand(["MEMORY", "USAGE", `sketch:${day}`]));
      bitmapBytes += Number(await redis.sendCommand(["MEMORY", "USAGE", `bits:${day}`]));
    }
    process.stdout.write(`\nHyperLogLog (PFCOUNT of 1, 7 and 30 day keys) against the exact distinct count:\n`);
    for (const [name, width] of [["DAU", 1], ["WAU", 7], ["MAU", 30]] as const) {
      const errors: number[] = [];
      for (let at = width - 1; at < days.length; at++) {
        const exact = new Set<string>();
        const keys: string[] = [];
        for (let k = at - width + 1; k <= at; k++) {
          for (const id of days[k]!) exact.add(id);
          keys.push(`sketch:${today - 40 + k}`);
        }
        errors.push(Math.abs((await redis.pfCount(keys)) - exact.size) / exact.size);
      }
      const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
      process.stdout.write(`  ${name}: ${errors.length} days, mean error ${(mean * 100).toFixed(2)} %, worst ${(Math.max(...errors) * 100).toFixed(2)} %, ${errors.filter((e) => e > 0.01).length} over 1 %\n`);
    }
    process.stdout.write(`  memory: ${(sketchBytes / days.length / 1024).toFixed(1)} KB per day key\n`);
    const before = await usedMemory(redis);
    await Promise.all([...index].map(([id, bit]) => redis.hSet("person-index", id, String(bit))));
    const indexBytes = (await usedMemory(redis)) - before;
    process.stdout.write(`\nbitmaps over a person index: ${(bitmapBytes / days.length / 1024).toFixed(1)} KB per day; the index ${(indexBytes / index.size).toFixed(0)} bytes per person (${(indexBytes / 1048576).toFixed(1)} MB for ${index.size} people)\n`);
  } finally {
    await redis.quit().catch(() => undefined);
    await server.stop();
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
