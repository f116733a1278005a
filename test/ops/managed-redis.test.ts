import { beforeAll, describe, expect, it } from "vitest";
import { DB, countEvents, runMixstack, seedRedisState, snapshotRedisState, startOpsStack, writeEvents, type OpsStack } from "./fixtures";

/**
 * The Redis state is exported and merged with ordinary commands only, so backup and restore work
 * against managed Redis/Valkey (ElastiCache, MemoryDB, Memorystore), which refuse replication,
 * snapshots, DUMP/RESTORE and CONFIG. Here the same commands are taken away with an ACL.
 */

const REFUSED = ["sync", "psync", "bgsave", "save", "bgrewriteaof", "dump", "restore", "migrate", "config", "debug", "monitor", "replicaof", "slaveof", "module"];

let stack: OpsStack;

describe("backup and restore against a Redis that refuses what managed services refuse", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    await writeEvents(stack.client, 100);
    await seedRedisState(stack.redis, 5);
    await stack.redis.sendCommand(["ACL", "SETUSER", "default", ...REFUSED.map((command) => `-${command}`)]);
  });

  it.each([["BGSAVE"], ["SYNC"], ["CONFIG", "GET", "save"], ["DUMP", "mx:idmap"]])("the server refuses %s", async (...command) => {
    await expect(stack.redis.sendCommand(command)).rejects.toThrow(/NOPERM/);
  });

  it("`mixstack backup`, Redis flushed, `mixstack restore` brings the state back", async () => {
    const before = await snapshotRedisState(stack.redis);
    const backup = await runMixstack(["backup", "--json"], stack.env);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout).manifest.redis.counts).toMatchObject({ identities: 5, profiles: 5, groups: 1, deadLetters: 1, streamEntries: 2 });
    await stack.redis.flushAll();
    const restore = await runMixstack(["restore", "--from", "latest", "--json"], stack.env);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(await snapshotRedisState(stack.redis)).toEqual(before);
    expect(await countEvents(stack.client, DB)).toBe(100);
  });
});
