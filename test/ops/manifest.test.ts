import { describe, expect, it } from "vitest";
import { compareCounts, findFileProblems, parseManifest } from "../../services/ops/manifest";

const sha = (char: string) => char.repeat(64);
const expected = [
  { path: "influx/a.s1.tar.gz", bytes: 100, sha256: sha("a") },
  { path: "redis-state.ndjson.gz", bytes: 20, sha256: sha("b") },
];

describe("findFileProblems", () => {
  it.each([
    { name: "a whole archive has no problems", found: [["influx/a.s1.tar.gz", 100, "a"], ["redis-state.ndjson.gz", 20, "b"]], problems: [] },
    { name: "a short file is reported as truncated", found: [["influx/a.s1.tar.gz", 40, "c"], ["redis-state.ndjson.gz", 20, "b"]], problems: ["influx/a.s1.tar.gz: 40 bytes, expected 100 (truncated?)"] },
    { name: "same size, other bytes: checksum mismatch", found: [["influx/a.s1.tar.gz", 100, "c"], ["redis-state.ndjson.gz", 20, "b"]], problems: [`influx/a.s1.tar.gz: sha256 ${sha("c")}, expected ${sha("a")}`] },
    { name: "every problem at once", found: [["influx/a.s1.tar.gz", 1, "c"]], problems: ["influx/a.s1.tar.gz: 1 bytes, expected 100 (truncated?)", "redis-state.ndjson.gz: missing"] },
  ] as { name: string; found: [string, number, string][]; problems: string[] }[])("$name", ({ found, problems }) => {
    const facts = new Map(found.map(([path, bytes, char]) => [path, { bytes, sha256: sha(char) }]));
    expect(findFileProblems(expected, facts)).toEqual(problems);
  });
});

describe("compareCounts", () => {
  it("lists pairs that differ, a missing pair counting as zero", () => {
    expect(
      compareCounts(
        [{ rp: "autogen", measurement: "events", points: 10 }, { rp: "autogen", measurement: "pipeline", points: 3 }],
        [{ rp: "autogen", measurement: "events", points: 10 }, { rp: "autogen", measurement: "ingest", points: 2 }],
      ),
    ).toEqual([
      { rp: "autogen", measurement: "pipeline", expected: 3, actual: 0 },
      { rp: "autogen", measurement: "ingest", expected: 0, actual: 2 },
    ]);
  });
});

describe("parseManifest", () => {
  it.each([
    ["{\"format\": 1, \"id\":", /not valid JSON \(truncated\?\)/],
    ["{\"format\": 2}", /not a mixstack manifest: format/],
    ["[]", /not a mixstack manifest/],
  ])("rejects %j with a clear error", (text, error) => {
    const result = parseManifest("20261123T030000.000Z", text);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(error);
    expect((result as Error).message).toMatch(/^backup 20261123T030000\.000Z: manifest\.json/);
  });
});

describe("parseManifest: file paths stay inside the backup", () => {
  const manifest = (path: string) =>
    JSON.stringify({
      format: 1,
      id: "20261123T030000.000Z",
      stack: "prod",
      startedAt: "2026-11-23T03:00:00.000Z",
      finishedAt: "2026-11-23T03:00:05.000Z",
      versions: { mixstack: "0.1.0", influxdb: "1.12.4", influxd: "1.12.4", node: "v24.14.0" },
      influx: { database: "mixevents", retentionPolicies: [], shards: 1, counts: [] },
      redis: { lineage: "x", counts: { identities: 0, firstSeen: 0, profiles: 0, groups: 0, deadLetters: 0, streamEntries: 0 } },
      files: [{ path, bytes: 1, sha256: sha("a") }],
    });

  it.each(["influx/20261123T030000Z.s1.tar.gz", "redis-state.ndjson.gz"])("accepts %j", (path) => {
    expect(parseManifest("20261123T030000.000Z", manifest(path))).not.toBeInstanceOf(Error);
  });

  it.each(["../../etc/cron.d/x", "influx/../../x", "/etc/passwd", "influx\\..\\x", "influx//x", "./x", ""])("rejects %j, naming the field", (path) => {
    const result = parseManifest("20261123T030000.000Z", manifest(path));
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/^backup 20261123T030000\.000Z: manifest\.json is not a mixstack manifest: files\.0\.path: /);
  });
});
