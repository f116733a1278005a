import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { waitUntilReady } from "../../services/ready/command";
import { probesFor } from "../../services/ready/probes";
import { readReadySettings } from "../../services/ready/settings";
import { startTestInflux, startTestRedis } from "../harness/services";
import type { Influxd, RedisServer } from "../../services/dev/processes";

/**
 * `mixstack ready`, the start gate a platform runs before a workload whose first start must not
 * fail (issue 17): against a real redis-server and influxd, and against a dependency that answers late.
 */

let redis: RedisServer;
let influx: Influxd;
beforeAll(async () => {
  [redis, influx] = await Promise.all([startTestRedis(), startTestInflux()]);
});

const run = async (env: NodeJS.ProcessEnv, timeoutMs: number) => {
  const lines: string[] = [];
  const code = await waitUntilReady(probesFor(readReadySettings(env)), timeoutMs, (line) => lines.push(line));
  return { code, lines };
};

describe("mixstack ready", () => {
  it("exits 0 once the queue and InfluxDB of its environment answer", async () => {
    const result = await run({ REDIS_URL: redis.url, INFLUX_URL: influx.url }, 10_000);
    expect(result.code).toBe(0);
    expect(result.lines.sort()).toEqual([`ready: InfluxDB at ${influx.url} answers\n`, `ready: the queue at ${redis.url} answers\n`]);
  });

  it("exits 0 at once when its environment names no dependency", async () => {
    expect(await run({}, 1_000)).toEqual({ code: 0, lines: [] });
  });

  it("waits for a dependency that answers late", async () => {
    let server: Server | undefined;
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const late = setTimeout(() => {
      server = createServer((_, response) => response.writeHead(204).end()).listen(port, "127.0.0.1");
    }, 2_500);
    try {
      const result = await run({ INFLUX_URL: `http://127.0.0.1:${port}` }, 20_000);
      expect(result.code).toBe(0);
    } finally {
      clearTimeout(late);
      server?.close();
    }
  });

  it("exits 1 naming what did not answer, within its deadline, without printing the password", async () => {
    // A closed port: nothing listens there (the VM not booted yet, a firewall path missing).
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const result = await run({ REDIS_URL: `redis://:s3cret-password@127.0.0.1:${closed}`, INFLUX_URL: influx.url }, 3_000);
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.lines.join("")).toMatch(new RegExp(`not ready: timed out after 3000 ms waiting for the queue at redis://:\\*+@127\\.0\\.0\\.1:${closed}`));
    expect(result.lines).toContain(`ready: InfluxDB at ${influx.url} answers\n`);
    expect(result.lines.join("")).not.toContain("s3cret");
  });
});

