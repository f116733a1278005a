import { describe, expect, it } from "vitest";
import { influxClient, redisClient, startTestInflux, startTestRedis } from "../harness/services";

describe("test harness", () => {
  it("starts a real redis-server with AOF and noeviction on a loopback port", async () => {
    const redis = await startTestRedis();
    const client = await redisClient(redis.url);
    expect(await client.ping()).toBe("PONG");
    const config = await client.configGet(["appendonly", "appendfsync", "maxmemory-policy"]);
    expect(config).toEqual({ appendonly: "yes", appendfsync: "everysec", "maxmemory-policy": "noeviction" });
  });

  it("starts a real influxd that accepts a write and answers the query", async () => {
    const influx = await startTestInflux();
    const client = influxClient(influx);
    await client.query("CREATE DATABASE harness");
    await client.write("m,t=a v=1i 1700000000000000000", { db: "harness" });
    const rows = await client.rows('SELECT "v" FROM "m"', { db: "harness", epoch: "ns" });
    expect(rows).toEqual([{ time: 1700000000000000000, v: 1 }]);
  });

  it("restarts influxd on the same ports and keeps the data", async () => {
    const influx = await startTestInflux();
    const client = influxClient(influx);
    await client.query("CREATE DATABASE keep");
    await client.write("m v=2i 1700000000000000000", { db: "keep" });
    await influx.restart();
    const rows = await client.rows('SELECT count("v") FROM "m"', { db: "keep" });
    expect(rows[0]?.count).toBe(1);
  });
});
