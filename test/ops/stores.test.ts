import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../services/dev/ports";
import { openStore, type BackupStore } from "../../services/ops/store";
import { scratchDir } from "../harness/services";
import { startFakeGcs, type FakeGcs } from "./fake-gcs-server";
import { DB, countEvents, runMixstack, seedRedisState, startOpsStack, writeEvents } from "./fixtures";

/**
 * The stores against real servers: a directory, and s3rver (an S3-compatible server from npm, run
 * in this process on a loopback port) for `s3://` through the AWS SDK v3, and for `gs://` the real
 * `@google-cloud/storage` SDK against a loopback fake of the JSON API (test/ops/fake-gcs-server.ts;
 * no GCS emulator installs from npm or Debian here).
 */

const BUCKET = "mixstack-backups";
let s3rver: S3rver;
let s3Endpoint: string;
let gcs: FakeGcs;
const s3Credentials = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

beforeAll(async () => {
  const port = await freePort();
  s3rver = new S3rver({ address: "127.0.0.1", port, silent: true, directory: scratchDir("s3rver"), configureBuckets: [{ name: BUCKET }] });
  await s3rver.run();
  s3Endpoint = `http://127.0.0.1:${port}`;
  Object.assign(process.env, s3Credentials); // the SDK's default credential chain reads these
  gcs = await startFakeGcs();
  process.env.STORAGE_EMULATOR_HOST = gcs.url; // the GCS SDK then talks to it, without credentials
});

afterAll(async () => {
  await s3rver?.close();
  await gcs?.close();
});

const stores: { name: string; open: () => BackupStore }[] = [
  { name: "file://", open: () => openStore(`file://${scratchDir("store")}/backups`) },
  { name: "s3:// (s3rver)", open: () => openStore(`s3://${BUCKET}/prod/mixstack`, { s3Endpoint }) },
  { name: "gs:// (JSON API fake)", open: () => openStore(`gs://${BUCKET}/prod/mixstack`) },
];

describe.each(stores)("$name store", ({ open }) => {
  it("uploads, lists, downloads, reads and removes a backup's files, counting bytes", async () => {
    const store = open();
    const local = scratchDir("files");
    // Above 5 MB, so that the SDKs' large-file paths (multipart upload, resumable upload) are used.
    const payload = Buffer.alloc(6 * 1024 * 1024, 7);
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
    expect((await readFile(join(local, "back", "shard"))).equals(payload)).toBe(true); // (toEqual on 6 MB is slow)
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

describe("gs:// on the wire", () => {
  it("sends large files through a resumable session and small ones as one multipart request, under the prefix", async () => {
    const store = openStore(`gs://${BUCKET}/wire`);
    const local = scratchDir("gcs-wire");
    await writeFile(join(local, "large"), Buffer.alloc(6 * 1024 * 1024, 1));
    await writeFile(join(local, "small"), "{}");
    gcs.requests.length = 0;
    await store.upload("20261123T030000.000Z", "influx/large.tar.gz", join(local, "large"));
    await store.upload("20261123T030000.000Z", "manifest.json", join(local, "small"));
    const uploads = gcs.requests.filter((request) => request.includes("/upload/"));
    expect(uploads.some((request) => /^POST \/upload\/storage\/v1\/b\/mixstack-backups\/o\?.*uploadType=resumable/.test(request))).toBe(true);
    expect(uploads.some((request) => request.startsWith("PUT ") && request.includes("upload_id="))).toBe(true);
    expect(uploads.at(-1)).toMatch(/^POST \/upload\/storage\/v1\/b\/mixstack-backups\/o\?.*uploadType=multipart/);
    expect([...gcs.objects.keys()].filter((key) => key.includes("/wire/"))).toEqual([
      `${BUCKET}/wire/20261123T030000.000Z/influx/large.tar.gz`,
      `${BUCKET}/wire/20261123T030000.000Z/manifest.json`,
    ]);
  });
});

describe("backup and restore through gs://", () => {
  it("`mixstack backup` then `restore --from latest` through the GCS SDK, objects under the prefix", async () => {
    const stack = await startOpsStack();
    await writeEvents(stack.client, 500);
    const env = { ...stack.env, STORAGE_EMULATOR_HOST: gcs.url, BACKUP_TARGET: `gs://${BUCKET}/gcs-e2e` };
    const backup = await runMixstack(["backup"], env);
    expect(backup.stderr).not.toMatch(/mixstack/);
    expect(backup.code).toBe(0);
    const names = [...gcs.objects.keys()].filter((key) => key.startsWith(`${BUCKET}/gcs-e2e/`));
    expect(names.some((name) => /\/gcs-e2e\/\d{8}T\d{6}\.\d{3}Z\/manifest\.json$/.test(name))).toBe(true);
    await stack.client.query(`DROP DATABASE ${DB}`);
    const restore = await runMixstack(["restore", "--from", "latest"], env);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/autogen\.events\s+500\s+500\s+ok/);
    expect(await countEvents(stack.client)).toBe(500);
  });
});
