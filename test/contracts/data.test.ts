import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackConfig } from "../../config/pulumi";
import { createStack } from "../../components/stack";
import type { Point } from "../../services/core/line-protocol";
import { encodeEntry, entryKinds, ENTRY_VERSION, groupMember, redisKeys } from "../../services/core/queue";
import { StatsWindow } from "../../services/ingest/stats-window";
import { LOCK_KEY } from "../../services/ops/lock";
import { FIRST_SEEN_KEY, opsKeys } from "../../services/ops/redis-state";
import { FieldTypes } from "../../services/worker/field-types";
import { toEventPoint, toMergePoint, toPipelinePoint, toProfileUpdatePoint } from "../../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../../services/worker/settings";
import { evaluate } from "../pulumi/mocks";
import { DayFactsCollector } from "../../services/worker/rollup/day-facts";
import { dayDetailPoints, dayPoints } from "../../services/worker/rollup/rollup-points";

/** What the rollup job writes for a day of two events (services/worker/rollup/). */
function rollupPoints(time: number): Point[] {
  const day = Math.floor(time / 86_400_000);
  const facts = new DayFactsCollector(day);
  facts.add({ event: "Signup", $os: "Linux", user_type: "new" }, [[time, "user-1"], [time + 1, ""]]);
  const figures = { day, dau: 1, wau: 1, mau: 1, wtd: 1, stickiness: 1 / 30, signups: 1, signups7d: 1, events: 2 };
  return [...dayPoints(figures, true), ...dayDetailPoints(facts.finish(), true, time + 86_400_000)];
}

/**
 * docs/contracts.md against the code for what is not env: the Redis keys, the stream entry's fields,
 * InfluxDB's measurements with the tags and fields the worker really writes (built by the pure
 * functions that write them), and the stack outputs of the program.
 */

const root = resolve(__dirname, "..", "..");
const contracts = readFileSync(join(root, "docs", "contracts.md"), "utf8");

function section(title: string): string {
  const start = contracts.indexOf(`## ${title}`);
  expect(start, `docs/contracts.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = contracts.indexOf("\n## ", start + 1);
  return contracts.slice(start, end === -1 ? undefined : end);
}

/** Table rows of a section as cells (the leading and trailing pipes dropped). */
function rows(title: string): string[][] {
  return section(title)
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.slice(2, -2).split(" | "));
}

const quoted = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe("docs/contracts.md, Redis", () => {
  it("lists exactly the keys the code uses", () => {
    const documented = rows("Redis").map((cells) => quoted(cells[0]!)[0]!);
    const used = [
      redisKeys.stream,
      redisKeys.consumerGroup,
      redisKeys.deadLetters,
      redisKeys.identityMap,
      redisKeys.profileIndex,
      redisKeys.profile("<distinct_id>"),
      redisKeys.groupIndex,
      // The doc names the member form; checked just below.
      "mx:group:<member>",
      redisKeys.firstSeen,
      redisKeys.applied("<entry id>"),
      redisKeys.historyWeeks,
      redisKeys.newWeeksOfMinute("<minute>" as unknown as number),
      redisKeys.names("<kind>"),
      redisKeys.nameBudget("<kind>", "<day>"),
      opsKeys.lineage,
      opsKeys.requeued,
      LOCK_KEY,
      redisKeys.rollupReopened,
      redisKeys.rollupState,
      redisKeys.rollupLock,
    ];
    expect(documented.sort()).toEqual(used.sort());
    expect(Object.keys(redisKeys).length + Object.keys(opsKeys).length + 1).toBe(used.length);
  });

  it("names group profiles as documented, and the backup agent's first-seen key is the worker's", () => {
    expect(redisKeys.groupProfile("plan:tier", "42")).toBe(`mx:group:${groupMember("plan:tier", "42")}`);
    expect(groupMember("plan:tier", "42")).toBe(`${encodeURIComponent("plan:tier")}:42`);
    expect(section("Redis")).toContain('`encodeURIComponent(group_key) + ":" + group_id`');
    expect(FIRST_SEEN_KEY).toBe(redisKeys.firstSeen);
  });

  it("describes the stream entry's fields, version and kinds as ingest writes them", () => {
    const entry = encodeEntry({ kind: "track", items: [], received: 1 });
    const prose = section("Redis").slice(section("Redis").indexOf("A stream entry has"));
    expect(Object.keys(entry).sort()).toEqual(["items", "kind", "received", "v"]);
    for (const field of Object.keys(entry)) expect(prose).toContain(`\`${field}\``);
    expect(prose).toContain(`\`v\` (\`${ENTRY_VERSION}\`)`);
    expect(prose).toContain(`\`kind\` (${entryKinds.map((kind) => `\`${kind}\``).join(", ")})`);
  });
});

describe("docs/contracts.md, InfluxDB", () => {
  const time = Date.UTC(2026, 0, 5, 12);
  const statsWindow = new StatsWindow();
  statsWindow.recordRequest("track", 200, 3, 1);
  statsWindow.recordRejects("track", "missing_token", 1);
  const written: Point[] = [
    toEventPoint(
      {
        event: "Signup",
        time,
        insertId: "i-1",
        distinctId: "device-1",
        properties: { mp_lib: "web", $os: "Linux", $browser: "Firefox", mp_country_code: "FR" },
      },
      "user-1",
      { tagKeys: new Set(DEFAULT_EVENT_TAGS) },
      new FieldTypes(),
      "new",
    ).point,
    toMergePoint("device-1", "user-1", time),
    toProfileUpdatePoint({ kind: "user", op: "$set", id: "user-1", created: true, time, key: "a" }),
    toProfileUpdatePoint({ kind: "group", op: "$set", id: "acme", groupKey: "company", created: false, time, key: "b" }),
    toPipelinePoint({ consumer: "w1", time, written: 1, batchMs: 2, streamLength: 3, lag: 4, pending: 5, deadLetters: 6, profiles: 7, groups: 8 }),
    ...statsWindow.drain(time).map((item) => ({ measurement: item.measurement, tags: item.tags, fields: item.fields })),
    ...rollupPoints(time),
  ];
  const table = new Map(rows("InfluxDB").map((cells) => [quoted(cells[0]!)[0]!, { tags: quoted(cells[1]!), fields: quoted(cells[2]!) }]));

  it("lists exactly the measurements the worker writes", () => {
    expect([...table.keys()].sort()).toEqual([...new Set(written.map((point) => point.measurement))].sort());
  });

  it.each(written.map((point) => [point.measurement, Object.keys(point.tags ?? {}).join(", "), point] as const))(
    "names every tag of %s (%s) and every field of ours",
    (measurement, _tags, point) => {
      const row = table.get(measurement)!;
      for (const tag of Object.keys(point.tags ?? {})) expect([measurement, "tag", tag, row.tags.includes(tag)]).toEqual([measurement, "tag", tag, true]);
      for (const field of Object.keys(point.fields)) expect([measurement, "field", field, row.fields.includes(field)]).toEqual([measurement, "field", field, true]);
    },
  );
});

describe("docs/contracts.md, stack outputs", () => {
  it("names every output of the program, with the secret ones marked secret, and the Docker backupJob's fields", async () => {
    const evaluation = await evaluate({ stack: "local", values: { platform: "docker" } }, () => ({ ...createStack(readStackConfig()).outputs }));
    const prose = section("Stack outputs read by");
    const outputs = Object.keys(evaluation.outputs);
    expect(outputs.length).toBeGreaterThan(5);
    for (const name of outputs) expect([name, prose.includes(`\`${name}\``)]).toEqual([name, true]);
    const documentedSecret = [...prose.matchAll(/`(\w+)` \(secret/g)].map((m) => m[1]!).sort();
    expect(documentedSecret).toEqual(outputs.filter((name) => evaluation.outputs[name]!.secret).sort());
    const dockerRow = prose.split("\n").find((line) => line.startsWith("| docker |"))!;
    const shape = quoted(dockerRow)[0]!.replace(/^\{\s*|\s*\}$/g, "");
    const job = evaluation.outputs.backupJob!.value as Record<string, unknown>;
    expect(Object.keys(job).sort()).toEqual(shape.split(/,\s*/).map((field) => field.split(":")[0]!).sort());
  });
});
