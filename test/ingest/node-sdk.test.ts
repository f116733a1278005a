import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ManagedProcess } from "../../services/dev/processes";
import type { EventItem, GroupUpdate, ProfileUpdate, QueueEntry } from "../../services/core/queue";
import { redisClient, startTestRedis, track } from "../harness/services";
import { FIXED_DATES, makeTestCertificate, readStream, startTestIngest, SECRET, TOKEN } from "./support";

/**
 * The official `mixpanel` Node SDK (0.24.0), unmodified, pointed at ingest over HTTPS behind a path
 * prefix: every call succeeds (the SDK checks for an exact `1`) and the stream holds what was sent.
 * The SDK runs in its own process, trusting the test certificate through NODE_EXTRA_CA_CERTS.
 */

const SERVICE_USER = "svc.user";
const SERVICE_SECRET = "svc-secret";

let results: { call: string; error: string | null }[];
let entries: QueueEntry[];

beforeAll(async () => {
  const certificate = makeTestCertificate();
  const redis = await startTestRedis();
  const client = await redisClient(redis.url);
  const ingest = await startTestIngest(redis.url, {
    ...FIXED_DATES,
    MIXSTACK_TLS_CERT_FILE: certificate.certFile,
    MIXSTACK_TLS_KEY_FILE: certificate.keyFile,
    MIXSTACK_PATH_PREFIX: "/mp",
    MIXSTACK_SERVICE_ACCOUNT_SECRETS: `${SERVICE_USER}:${SERVICE_SECRET}`,
  });
  const sdk = track(
    new ManagedProcess({
      name: "mixpanel node sdk",
      command: process.execPath,
      args: [join(__dirname, "fixtures", "node-sdk-client.cjs"), `localhost:${ingest.port}`, "/mp", TOKEN, SECRET, SERVICE_USER, SERVICE_SECRET],
      env: { NODE_EXTRA_CA_CERTS: certificate.certFile },
      ready: async () => undefined,
    }),
  );
  await sdk.start();
  const exitCode = await sdk.waitForExit(60_000);
  expect(exitCode, sdk.recentOutput()).toBe(0);
  results = sdk.output
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
  entries = (await readStream(client)).map(({ entry }) => entry);
});

function items<K extends QueueEntry["kind"]>(kind: K) {
  return entries.filter((entry) => entry.kind === kind).flatMap((entry) => entry.items as unknown[]) as Extract<QueueEntry, { kind: K }>["items"];
}

describe("official mixpanel Node SDK", () => {
  it("gets success from every call", () => {
    expect(results.map((result) => result.call)).toEqual([
      "track",
      "track with a numeric id and seconds",
      "track_batch",
      "import",
      "import_batch",
      "import with a service account",
      "alias",
      "people.set",
      "people.set_once",
      "people.increment",
      "people.increment object",
      "people.append",
      "people.union",
      "people.remove",
      "people.unset",
      "people.track_charge",
      "people.delete_user",
      "groups.set",
      "groups.set_once",
      "groups.union",
      "groups.remove",
      "groups.unset",
      "groups.delete_group",
    ]);
    expect(results.filter((result) => result.error !== null)).toEqual([]);
  });

  it("track: the event reaches the stream with its ms time, a generated insert id and no token", () => {
    const [signup] = (items("track") as EventItem[]).filter((item) => item.event === "Signup");
    expect(signup).toEqual({
      event: "Signup",
      time: 1700000000123,
      insertId: expect.stringMatching(/^[0-9a-f]{32}$/),
      distinctId: "u1",
      properties: { plan: "pro", nested: { a: [1, 2] }, mp_lib: "node", $lib_version: "0.24.0" },
    });
    const [seconds] = (items("track") as EventItem[]).filter((item) => item.event === "Seconds");
    expect(seconds).toMatchObject({ time: 1700000000000, distinctId: "42" });
  });

  it("track_batch: 120 events in three requests of 50, 50 and 20", () => {
    const batchEntries = entries.filter((entry) => entry.kind === "track" && (entry.items as EventItem[])[0]?.event === "Batch");
    expect(batchEntries.map((entry) => entry.items.length).sort()).toEqual([20, 50, 50]);
    const batch = batchEntries.flatMap((entry) => entry.items as EventItem[]).sort((a, b) => Number(a.properties.i) - Number(b.properties.i));
    expect(batch.map((item) => [item.distinctId, item.time, item.properties.i])).toEqual(
      Array.from({ length: 120 }, (_, i) => [`b${i}`, 1700000000000 + i, i]),
    );
  });

  it("import and import_batch over HTTPS with the secret, and with a service account", () => {
    const imported = items("import") as EventItem[];
    expect(imported.filter((item) => item.event === "Old Event")).toEqual([
      expect.objectContaining({ time: 1600000000000, distinctId: "u1", properties: { mp_lib: "node", $lib_version: "0.24.0" } }),
    ]);
    const old = imported.filter((item) => item.event === "Old Batch");
    expect(old.map((item) => item.time).sort()).toEqual(Array.from({ length: 60 }, (_, i) => 1600000000000 + i));
    expect(imported.filter((item) => item.event === "Service Import").map((item) => item.distinctId)).toEqual(["svc"]);
  });

  it("alias: a $create_alias event carrying the alias", () => {
    const [alias] = (items("track") as EventItem[]).filter((item) => item.event === "$create_alias");
    expect(alias).toMatchObject({ distinctId: "u1", properties: { alias: "alias-1", mp_lib: "node" } });
  });

  it("people: every operation reaches the stream in order, as sent", () => {
    const updates = items("engage") as ProfileUpdate[];
    expect(updates.map((update) => update.distinctId)).toEqual(Array(10).fill("u1"));
    expect(updates.map((update) => update.ops)).toEqual([
      { $set: { plan: "pro", $email: "a@b.c" } },
      { $set_once: { first_seen: "2024-01-02T03:04:05" } },
      { $add: { logins: 1 } },
      { $add: { credits: 5 } },
      { $append: { pages: "/home" } },
      { $union: { tags: ["a", "b"] } },
      { $remove: { tags: "a" } },
      { $unset: ["first_seen"] },
      { $append: { $transactions: { $amount: 29.99 } } },
      { $delete: true },
    ]);
  });

  it("groups: every operation reaches the stream in order, as sent", () => {
    const updates = items("groups") as GroupUpdate[];
    expect(updates.map((update) => [update.groupKey, update.groupId])).toEqual(Array(6).fill(["company", "Acme"]));
    expect(updates.map((update) => update.ops)).toEqual([
      { $set: { Industry: "x" } },
      { $set_once: { founded: 1999 } },
      { $union: { regions: ["eu"] } },
      { $remove: { regions: "eu" } },
      { $unset: ["founded"] },
      { $delete: true },
    ]);
  });
});
