import { describe, expect, it } from "vitest";
import { eventTimestamp } from "../../services/worker/schema";
import { ErasedIds, erasuresAfter, idHash, type ErasureRecord } from "../../services/ops/erasure-ledger";
import { eventTimeOf, exportedEvent, propertyNameOf } from "../../services/ops/export-person";
import { agedOutBy } from "../../services/ops/forget";
import { requestedIds } from "../../services/ops/person-commands";
import { entryVerdict, personIds, personTest } from "../../services/ops/person-ids";
import { deletePointStatement, identityCondition, identityFieldKeys, nanosOf } from "../../services/ops/person-points";

/** The pure parts of forget and export-person, table-driven. */

describe("personIds: the identity cluster of a request", () => {
  const links = {
    userOfDevice: new Map([
      ["phone", "pat"],
      ["laptop", "pat"],
    ]),
    devicesOfUser: new Map([
      ["pat", new Set(["phone", "laptop"])],
      ["kim", new Set(["tablet"])],
    ]),
  };
  const known = new Set(["phone", "laptop", "tablet"]);

  it.each([
    ["the user", ["pat"], { users: ["pat"], devices: ["laptop", "phone"] }],
    ["a device by its id", ["phone"], { users: ["pat"], devices: ["laptop", "phone"] }],
    ["a device by its $device: form", ["$device:laptop"], { users: ["pat"], devices: ["laptop", "phone"] }],
    ["a device never merged", ["$device:lonely"], { users: [], devices: ["lonely"] }],
    ["two people", ["pat", "kim"], { users: ["kim", "pat"], devices: ["laptop", "phone", "tablet"] }],
  ])("%s", (_label, requested, expected) => {
    const person = personIds(requested, known, links);
    expect({ users: person.users, devices: person.devices }).toEqual(expected);
    for (const device of expected.devices) expect(person.all).toEqual(expect.arrayContaining([device, `$device:${device}`]));
  });

  it("never widens further than one hop: a device's user's devices, not their users' other links", () => {
    const person = personIds(["phone"], known, links);
    expect(person.all).not.toContain("kim");
    expect(person.all).not.toContain("tablet");
  });

  it("an unknown id is a user, and its $device: form is theirs too (a device that was never merged)", () => {
    expect(personIds(["x1"], new Set(), { userOfDevice: new Map(), devicesOfUser: new Map() }).all).toEqual(["$device:x1", "x1"]);
  });
});

describe("entryVerdict: what a queued entry or dead letter holds of a person", () => {
  const test = personTest(["pat", "phone"]);
  const item = (distinctId: string, properties: Record<string, unknown> = {}) => ({ event: "e", time: 1, insertId: "i", distinctId, properties });
  it.each([
    ["nothing of theirs", "track", [item("kim")], "none"],
    ["their distinct_id", "track", [item("pat")], "all"],
    ["their device in $device_id", "import", [item("", { $device_id: "phone" })], "all"],
    ["their numeric $user_id is not theirs unless it matches", "track", [item("", { $user_id: 7 })], "none"],
    ["a mixed entry", "track", [item("pat"), item("kim")], "some"],
    ["a profile update of theirs", "engage", [{ distinctId: "pat", time: 1, ignoreTime: false, ops: {} }], "all"],
    ["a group update is nobody's", "groups", [{ groupKey: "company", groupId: "pat", time: 1, ignoreTime: false, ops: {} }], "none"],
  ])("%s", (_label, kind, items, verdict) => {
    expect(entryVerdict(kind, JSON.stringify(items), test).kind).toBe(verdict);
  });

  it("a mixed entry keeps the other items, in order", () => {
    const verdict = entryVerdict("track", JSON.stringify([item("kim"), item("pat"), item("lee")]), test);
    expect(verdict).toMatchObject({ kind: "some", keep: [item("kim"), item("lee")], theirs: [item("pat")] });
  });

  it("unreadable items are theirs when their text names them, whole", () => {
    expect(entryVerdict("track", "not json: pat", test)).toEqual({ kind: "all", theirs: ["not json: pat"] });
    expect(entryVerdict("track", "not json: kim", test)).toEqual({ kind: "none" });
  });
});

describe("points: conditions, statements, times", () => {
  it("finds the identity fields with the worker's type suffixes, and nothing else", () => {
    const keys = [
      { name: "distinct_id", type: "string" },
      { name: "$device_id", type: "string" },
      { name: "$device_id:float", type: "float" },
      { name: "$device_id:property", type: "string" },
      { name: "plan", type: "string" },
    ];
    expect(identityFieldKeys(["distinct_id", "$device_id"], keys).map((key) => key.name)).toEqual(["distinct_id", "$device_id", "$device_id:float"]);
  });

  it("compares strings with strings and numeric ids with number fields, quoting what needs it", () => {
    const condition = identityCondition(
      [
        { name: "distinct_id", type: "string" },
        { name: "$device_id:float", type: "float" },
      ],
      ["o'neil", "42"],
    );
    expect(condition).toBe(`("distinct_id" = 'o\\'neil' OR "distinct_id" = '42' OR "$device_id:float" = 42)`);
    expect(identityCondition([{ name: "flag", type: "boolean" }], ["x"])).toBeUndefined();
  });

  it("deletes one point: every tag key named, absent ones as '', and the exact time", () => {
    expect(deletePointStatement({ measurement: "events", tags: { event: "Sign up", mp_lib: "web" }, time: 1794918794183815258n }, ["$os", "event", "mp_lib", "user_type"])).toBe(
      `DELETE FROM "events" WHERE "$os" = '' AND "event" = 'Sign up' AND "mp_lib" = 'web' AND "user_type" = '' AND time = 1794918794183815258`,
    );
  });

  it.each([
    ["2026-11-18T10:33:14.183815258Z", 1794997994183815258n],
    ["2026-11-18T10:33:14.1Z", 1794997994100000000n],
    ["2026-11-18T10:33:14Z", 1794997994000000000n],
    ["1970-01-01T00:00:00.000000001Z", 1n],
  ])("reads InfluxDB's time %s to the nanosecond", (text, nanos) => {
    expect(nanosOf(text)).toBe(nanos);
  });
});

describe("export: events back in the shape they were sent", () => {
  it.each([
    [1794918794184, "ins-9"],
    [1794918794000, "ins-9"],
    [1700000000001, "a"],
    [1700000000999, "b"],
    [1700000000000, "c"],
  ])("time %i with insert id %s comes back from its point's nanoseconds", (time, insertId) => {
    for (const probe of [0, 1, 3]) expect(eventTimeOf(BigInt(eventTimestamp(time, insertId, probe)), insertId)).toBe(time);
  });

  it("a millisecond equal to the insert id's spread reads as its whole second (they share one point)", () => {
    // ins-9 spreads its whole seconds to .183815258: the millisecond time .183 lands on the same point.
    expect(eventTimestamp(1794918794183, "ins-9")).toBe(eventTimestamp(1794918794000, "ins-9"));
    expect(eventTimeOf(BigInt(eventTimestamp(1794918794183, "ins-9")), "ins-9")).toBe(1794918794000);
  });

  it.each([
    ["plan", "plan"],
    ["plan:float", "plan"],
    ["plan:string:float", "plan"],
    ["distinct_id:property", "distinct_id"],
    ["time:property:float", "time"],
    ["(empty)", ""],
  ])("field %s is property %s", (field, property) => {
    expect(propertyNameOf(field)).toBe(property);
  });

  it("puts back the sent distinct_id, the insert id and the tags, and keeps what mixstack added apart", () => {
    const time = 1700000000123n * 1_000_000n + 5n;
    const exported = exportedEvent({
      rp: "autogen",
      measurement: "events",
      time,
      tags: { event: "Clicked", mp_lib: "web", user_type: "new" },
      fields: { insert_id: "x", distinct_id: "pat", $distinct_id_before_identity: "$device:phone", "plan:float": 2, button: "buy" },
    });
    expect(exported).toEqual({
      event: "Clicked",
      properties: { time: 1700000000123, distinct_id: "$device:phone", $insert_id: "x", mp_lib: "web", plan: 2, button: "buy" },
      stored: { distinct_id: "pat", user_type: "new", time_ns: time.toString() },
    });
  });
});

describe("the erasure ledger", () => {
  const key = Buffer.alloc(32, 7);
  const record = (finishedAt: string, ids: string[]): ErasureRecord => ({
    format: 1,
    id: finishedAt,
    startedAt: finishedAt,
    finishedAt,
    idHashes: ids.map((id) => idHash(key, id)),
    removed: {},
  });

  it("knows erased ids by their keyed hash only", () => {
    const erased = new ErasedIds(key, [record("2026-11-20T00:00:00.000Z", ["pat", "$device:phone"])]);
    expect([erased.has("pat"), erased.has("$device:phone"), erased.has("kim"), erased.has("")]).toEqual([true, true, false, false]);
    expect(new ErasedIds(Buffer.alloc(32, 8), [record("2026-11-20T00:00:00.000Z", ["pat"])]).has("pat")).toBe(false);
    expect(JSON.stringify(record("2026-11-20T00:00:00.000Z", ["pat"]))).not.toContain("pat");
  });

  it("re-applies the erasures that finished after a backup started", () => {
    const records = [record("2026-11-10T00:00:00.000Z", ["a"]), record("2026-11-20T00:00:00.000Z", ["b"])];
    expect(erasuresAfter(records, "2026-11-15T03:00:00.000Z").map((r) => r.id)).toEqual(["2026-11-20T00:00:00.000Z"]);
    expect(erasuresAfter(records, "2026-11-25T03:00:00.000Z")).toEqual([]);
  });
});

describe("forget: requests and backups", () => {
  it.each([
    [["a", "b", "a"], undefined, { ids: ["a", "b"] }],
    [[], '{"distinct_ids":["x","y"],"compliance_type":"CCPA"}', { ids: ["x", "y"], complianceType: "CCPA" }],
    [[], '{"distinct_ids":["x"]}', { ids: ["x"], complianceType: "GDPR" }],
  ])("ids %j / request %s", (positionals, request, expected) => {
    expect(requestedIds(positionals, request)).toEqual(expected);
  });

  it.each([
    [[], undefined, "name at least one distinct_id"],
    [["a"], '{"distinct_ids":["x"]}', "either as arguments or in --request"],
    [[], "{", "--request is not JSON"],
    [[], '{"distinct_ids":[]}', "--request: distinct_ids"],
    [[], `{"distinct_ids":${JSON.stringify(Array.from({ length: 2001 }, (_, i) => `u${i}`))}}`, "--request: distinct_ids"],
  ])("refuses ids %j / request %s", (positionals, request, message) => {
    const result = requestedIds(positionals, request);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toContain(message);
  });

  it("says when retention deletes the last backup taken before an erasure, with daily backups", () => {
    const now = new Date("2026-11-23T12:00:00.000Z");
    const backups = Array.from({ length: 30 }, (_, day) => {
      const time = new Date(now.getTime() - (day + 0.5) * 86_400_000);
      return { id: `b${day}`, time, complete: true };
    });
    const older = new Set(backups.map((backup) => backup.id));
    // Keep 7 daily and 4 weekly. Monday 23 Nov: the last older backups are W47's newest (Sunday 22 Nov)
    // and Monday's own; W48's newest is soon a new one. W47 stays a weekly until W48, W49, W50 and
    // W51 all have a backup: the first of W51 is Monday 14 Dec, 21 days on.
    expect(agedOutBy(backups, older, { keepDaily: 7, keepWeekly: 4 }, now)!.toISOString().slice(0, 10)).toBe("2026-12-14");
    expect(agedOutBy(backups, older, { keepDaily: 1, keepWeekly: 0 }, now)!.toISOString().slice(0, 10)).toBe("2026-11-24");
  });
});
