import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createClient } from "redis";
import {
  startInfluxd,
  startRedisServer,
  type Influxd,
  type InfluxdOptions,
  type ManagedProcess,
  type RedisServer,
  type RedisServerOptions,
} from "../../services/dev/processes";
import { InfluxClient } from "../../services/core/influx";

/**
 * The one harness every integration test uses: real `redis-server` and `influxd` child processes on
 * free loopback ports, in a temporary directory, stopped (by PID) and removed after the file's tests.
 */

const started: ManagedProcess[] = [];
const directories: string[] = [];

afterAll(async () => {
  await Promise.all(started.splice(0).map((process) => process.stop()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A temporary directory removed after the test file. */
export function scratchDir(label = "mixstack"): string {
  const directory = mkdtempSync(join(tmpdir(), `${label}-`));
  directories.push(directory);
  return directory;
}

/** Registers a process we started so it is stopped after the test file even if a test fails. */
export function track<T extends ManagedProcess>(process: T): T {
  started.push(process);
  return process;
}

export async function startTestRedis(options: Partial<RedisServerOptions> = {}): Promise<RedisServer> {
  return track(await startRedisServer({ dir: scratchDir("redis"), ...options }));
}

export async function startTestInflux(options: Partial<InfluxdOptions> = {}): Promise<Influxd> {
  return track(await startInfluxd({ dir: scratchDir("influxd"), ...options }));
}

/** A connected node-redis client, closed after the test file. */
export async function redisClient(url: string) {
  const client = createClient({ url });
  client.on("error", () => undefined); // errors surface on commands; restarts are part of some tests
  await client.connect();
  afterAll(async () => {
    if (client.isOpen) await client.close();
  });
  return client;
}

export function influxClient(influx: Influxd, credentials: { username?: string; password?: string } = {}): InfluxClient {
  return new InfluxClient({ url: influx.url, ...credentials });
}
