import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../services/dev/ports";
import { scratchDir } from "../harness/services";
import { runMixstack } from "./fixtures";

/** The commands when what they talk to is gone: a clear error, never a hang. */

async function deadEnv() {
  const [redisPort, influxPort, rpcPort] = [await freePort(), await freePort(), await freePort()];
  return {
    REDIS_URL: `redis://:hunter2@127.0.0.1:${redisPort}`,
    INFLUX_URL: `http://127.0.0.1:${influxPort}`,
    INFLUX_BACKUP_ADDR: `127.0.0.1:${rpcPort}`,
    BACKUP_TARGET: `file://${scratchDir("dead-store")}`,
    BACKUP_WORK_DIR: scratchDir("dead-work"),
  };
}

describe("ops commands against unreachable services", () => {
  it("`backup` with Redis down exits 1 naming Redis, without its password", async () => {
    const env = await deadEnv();
    const result = await runMixstack(["backup"], env, 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mixstack backup: Redis unreachable at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: connect ECONNREFUSED/m);
    expect(result.stderr).not.toContain("hunter2");
  });

  it("`backups list` needs only the store: it works while Redis and InfluxDB are down", async () => {
    const env = await deadEnv();
    const store = env.BACKUP_TARGET.slice("file://".length);
    await mkdir(join(store, "20261123T030000.000Z"), { recursive: true });
    await writeFile(join(store, "20261123T030000.000Z", "redis-state.ndjson.gz"), "partial");
    const result = await runMixstack(["backups", "list"], env, 60_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^20261123T030000\.000Z\s+incomplete: no manifest/m);
  });
});

describe("ops commands given options they do not take (a stack trace and exit 1 before)", () => {
  it.each([
    [["restore", "--frm", "latest"], /Unknown option '--frm'/, /^usage: mixstack restore --from ID\|latest/m],
    [["backup", "--bogus"], /Unknown option '--bogus'/, /^usage: mixstack backup \[--json\]/m],
    [["backup", "verify", "--from"], /--from/, /^ {7}mixstack backup verify/m],
  ])("%j exits 2 with the usage, before connecting to anything", async (args, reason, usage) => {
    const result = await runMixstack(args, await deadEnv(), 60_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toMatch(usage);
  });
});
