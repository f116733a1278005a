import { cp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../services/ops/backup";
import { backupIdFor, timeOfBackupId } from "../../services/ops/backup-id";
import { databaseExists } from "../../services/ops/influx-archive";
import { restoreBackup, verifyBackup } from "../../services/ops/restore";
import { DB, countEvents, runMixstack, seedRedisState, snapshotRedisState, startOpsStack, writeEvents, type OpsStack } from "./fixtures";

/**
 * A damaged or partial backup stops with a clear error before anything live changes. Live is
 * emptied first, so that any step that did run would show (a database or a Redis key would appear).
 */

let stack: OpsStack;
let goodId: string;
let copies = 0;

/** A copy of the good backup under a new id, damaged by `damage`. */
async function damagedCopy(damage: (dir: string) => Promise<void>): Promise<string> {
  copies += 1;
  const id = backupIdFor(new Date(timeOfBackupId(goodId)!.getTime() + copies));
  const dir = join(stack.backupDir, id);
  await cp(join(stack.backupDir, goodId), dir, { recursive: true });
  const manifestPath = join(dir, "manifest.json");
  await writeFile(manifestPath, (await readFile(manifestPath, "utf8")).replace(`"id": "${goodId}"`, `"id": "${id}"`));
  await damage(dir);
  return id;
}

async function firstShard(dir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  return join(dir, manifest.files.find((file: { path: string }) => file.path.endsWith(".tar.gz")).path);
}

async function flipLastByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
  await writeFile(path, bytes);
}

async function expectLiveUntouched(): Promise<void> {
  expect(await databaseExists(stack.client, DB)).toBe(false);
  expect(await databaseExists(stack.client, `${DB}__mixstack_scratch`)).toBe(false);
  expect(await stack.redis.keys("*")).toEqual([]);
}

describe("a damaged or partial backup", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    await writeEvents(stack.client, 500);
    await seedRedisState(stack.redis, 5);
    goodId = (await runBackup(stack.context())).manifest.id;
    await stack.client.query(`DROP DATABASE ${DB}`);
    await stack.redis.flushAll();
  });

  const cases: { name: string; damage: (dir: string) => Promise<void>; error: RegExp }[] = [
    { name: "a shard archive cut short", damage: async (dir) => truncate(await firstShard(dir), 10), error: /damaged; nothing was changed:\n.*influx\/.*\.tar\.gz: 10 bytes, expected \d+ \(truncated\?\)/ },
    { name: "a changed byte in a shard archive (checksum mismatch)", damage: async (dir) => flipLastByte(await firstShard(dir)), error: /influx\/.*\.tar\.gz: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/ },
    { name: "a changed byte in the Redis state", damage: (dir) => flipLastByte(join(dir, "redis-state.ndjson.gz")), error: /redis-state\.ndjson\.gz: sha256 .*, expected/ },
    { name: "a missing file", damage: (dir) => rm(join(dir, "redis-state.ndjson.gz")), error: /redis-state\.ndjson\.gz: missing/ },
    { name: "a manifest cut short", damage: async (dir) => truncate(join(dir, "manifest.json"), 100), error: /is not usable: .*manifest\.json is not valid JSON \(truncated\?\)/ },
    { name: "no manifest (an interrupted upload)", damage: (dir) => rm(join(dir, "manifest.json")), error: /is not usable: no manifest/ },
    {
      name: "a manifest whose counts the archive does not hold",
      damage: async (dir) => {
        const path = join(dir, "manifest.json");
        await writeFile(path, (await readFile(path, "utf8")).replace('"points": 500', '"points": 501'));
      },
      error: /restored point counts differ from the manifest \(autogen\.events: 500 restored, 501 in manifest\); live data was not changed/,
    },
  ];

  it.each(cases)("$name: restore stops with a clear error and live data is untouched", async ({ damage, error }) => {
    const id = await damagedCopy(damage);
    await expect(restoreBackup(stack.context(), id)).rejects.toThrow(error);
    await expectLiveUntouched();
  });

  it("`mixstack restore` on a truncated backup exits 1 and names the file on stderr", async () => {
    const id = await damagedCopy(async (dir) => truncate(await firstShard(dir), 10));
    const result = await runMixstack(["restore", "--from", id], stack.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`mixstack restore: backup ${id} is damaged; nothing was changed:\\n.*\\.tar\\.gz: 10 bytes`));
    expect(result.stderr).toContain("another backup: `mixstack backups list`, then `--from ID`");
    await expectLiveUntouched();
  });

  it("`backup verify` passes on the good backup and fails on a checksum mismatch", async () => {
    const report = await verifyBackup(stack.context(), goodId);
    expect(report.counts).toEqual([{ rp: "autogen", measurement: "events", points: 500 }]);
    const id = await damagedCopy(async (dir) => flipLastByte(await firstShard(dir)));
    await expect(verifyBackup(stack.context(), id)).rejects.toThrow(/sha256/);
    await expectLiveUntouched();
  });

  it("the good backup still restores after all that", async () => {
    const report = await restoreBackup(stack.context(), goodId);
    expect(report.counts).toEqual([{ rp: "autogen", measurement: "events", backup: 500, liveAfter: 500 }]);
  });

  /** Everything a restore could change: points, databases, every Redis key and its content. */
  async function liveState() {
    const keys = (await stack.redis.keys("*")).sort();
    const databases = (await stack.client.rows("SHOW DATABASES")).map((row) => row.name).sort();
    return { points: await countEvents(stack.client), databases, keys, redis: await snapshotRedisState(stack.redis) };
  }

  // The same damage with a live system holding data (the merge path): a restore that changed or
  // dropped anything before its checks would show here, where an empty live system cannot show it.
  it.each(cases)("$name, into a live system holding data: restore stops and live data is unchanged", async ({ damage, error }) => {
    await stack.client.query(`DELETE FROM "events" WHERE time < '2026-10-01T00:00:10Z'`, { db: DB });
    const before = await liveState();
    expect(before.points).toBe(490);
    expect(before.keys).toContain("mx:idmap");
    const id = await damagedCopy(damage);
    await expect(restoreBackup(stack.context(), id)).rejects.toThrow(error);
    expect(await liveState()).toEqual(before);
  });
});
