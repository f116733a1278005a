import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../services/dev/ports";
import { openStore, type BackupStore } from "../../services/ops/store";
import { scratchDir } from "../harness/services";
import { DB, countEvents, runMixstack, seedRedisState, startOpsStack, writeEvents } from "./fixtures";

/**
 * The stores against real servers: a directory, and s3rver (an S3-compatible server from npm, run
 * in this process on a loopback port) for `s3://` through the AWS SDK v3.
 */

const BUCKET = "mixstack-backups";
let s3rver: S3rver;
let s3Endpoint: string;
const s3Credentials = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

beforeAll(async () => {
  const port = await freePort();
  s3rver = new S3rver({ address: "127.0.0.1", port, silent: true, directory: scratchDir("s3rver"), configureBuckets: [{ name: BUCKET }] });
  await s3rver.run();
  s3Endpoint = `http://127.0.0.1:${port}`;
  Object.assign(process.env, s3Credentials); // the SDK's default credential chain reads these
});

afterAll(async () => {
  await s3rver?.close();
});

const stores: { name: string; open: () => BackupStore }[] = [
  { name: "file://", open: () => openStore(`file://${scratchDir("store")}/backups`) },
  { name: "s3:// (s3rver)", open: () => openStore(`s3://${BUCKET}/prod/mixstack`, { s3Endpoint }) },
];

describe.each(stores)("$name store", ({ open }) => {
  it("uploads, lists, downloads, reads and removes a backup's files, counting bytes", async () => {
    const store = open();
    const local = scratchDir("files");
    const payload = Buffer.alloc(256 * 1024, 7);
    await writeFile(join(local, "shard"), payload);
    await writeFile(join(local, "manifest"), '{"id":"x"}');
    let uploaded = 0;
    await store.upload("20261123T030000.000Z", "influx/x.s1.tar.gz", join(local, "shard"), (bytes) => (uploaded += bytes));
    await store.upload("20261123T030000.000Z", "manifest.json", join(local, "manifest"));
    await store.upload("20261124T030000.000Z", "manifest.json", join(local, "manifest"));
    expect(uploaded).toBe(payload.length);
    expect(await store.listFolders()).toEqual(["20261123T030000.000Z", "20261124T030000.000Z"]);
    expect(await store.listFiles("20261123T030000.000Z")).toEqual([
      { path: "influx/x.s1.tar.gz", bytes: payload.length },
      { path: "manifest.json", bytes: 10 },
    ]);
    let downloaded = 0;
    await store.download("20261123T030000.000Z", "influx/x.s1.tar.gz", join(local, "back", "shard"), (bytes) => (downloaded += bytes));
    expect(await readFile(join(local, "back", "shard"))).toEqual(payload);
    expect(downloaded).toBe(payload.length);
    expect(await store.readText("20261123T030000.000Z", "manifest.json")).toBe('{"id":"x"}');
    expect(await store.readText("20261123T030000.000Z", "nope.json")).toBeUndefined();
    await store.remove("20261123T030000.000Z");
    expect(await store.listFolders()).toEqual(["20261124T030000.000Z"]);
    expect(await store.listFiles("20261123T030000.000Z")).toEqual([]);
  });
});

describe("backup and restore through s3://", () => {
  it("`mixstack backup` to s3rver, then `restore --from latest` after losing everything, brings the data back", async () => {
    const stack = await startOpsStack();
    await writeEvents(stack.client, 1_000);
    await seedRedisState(stack.redis, 3);
    const env = { ...stack.env, ...s3Credentials, BACKUP_TARGET: `s3://${BUCKET}/e2e`, BACKUP_S3_ENDPOINT: s3Endpoint };
    const backup = await runMixstack(["backup"], env);
    // (stderr may carry the AWS SDK's Node 20 deprecation warning; errors would start with "mixstack".)
    expect(backup.stderr).not.toMatch(/mixstack/);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/influx autogen\.events: 1000 points/);
    await stack.client.query(`DROP DATABASE ${DB}`);
    await stack.redis.flushAll();
    const restore = await runMixstack(["restore", "--from", "latest"], env);
    expect(restore.stderr).not.toMatch(/mixstack/);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/autogen\.events\s+1000\s+1000\s+ok/);
    expect(await countEvents(stack.client)).toBe(1_000);
    expect(await stack.redis.hLen("mx:idmap")).toBe(3);
  });
});
