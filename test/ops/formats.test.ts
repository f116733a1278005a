import { describe, expect, it } from "vitest";
import { backupIdFor, timeOfBackupId } from "../../services/ops/backup-id";
import { toInfluxqlDuration } from "../../services/ops/influx-duration";
import { estimateRemainingMs, formatProgress, progressReporter } from "../../services/ops/progress";
import { compareStreamIds, decodeStateRecord, encodeStateRecord, type StateRecord } from "../../services/ops/redis-state-format";
import { parseSchedule } from "../../services/ops/scheduler";
import { parseStoreUrl } from "../../services/ops/store";
import { foldersFromKeys } from "../../services/ops/store-keys";

describe("backup ids", () => {
  it("are the UTC start time, sortable as text, and read back", () => {
    const time = new Date("2026-11-23T03:00:05.042Z");
    expect(backupIdFor(time)).toBe("20261123T030005.042Z");
    expect(timeOfBackupId("20261123T030005.042Z")).toEqual(time);
    expect(backupIdFor(new Date("2026-11-09T00:00:00Z")) < backupIdFor(new Date("2026-11-10T00:00:00Z"))).toBe(true);
  });
  it.each(["latest", "20261123", "20261323T030005.042Z", "x20261123T030005.042Z"])("%s is not a backup id", (name) => {
    expect(timeOfBackupId(name)).toBeUndefined();
  });
});

describe("toInfluxqlDuration", () => {
  it.each([
    ["0s", "INF"],
    ["168h0m0s", "604800s"],
    ["720h0m0s", "2592000s"],
    ["1h30m0s", "5400s"],
    ["1.5s", "1500000000ns"],
    ["24h0m0s", "86400s"],
  ])("%s -> %s", (shown, influxql) => {
    expect(toInfluxqlDuration(shown)).toBe(influxql);
  });
  it("rejects what is not a duration", () => {
    expect(toInfluxqlDuration("7 days")).toBeInstanceOf(Error);
  });
});

describe("parseStoreUrl", () => {
  it.each([
    ["file:///var/backups/mixstack", { scheme: "file", root: "/var/backups/mixstack", prefix: "" }],
    ["s3://my-bucket", { scheme: "s3", root: "my-bucket", prefix: "" }],
    ["s3://my-bucket/prod/mixstack/", { scheme: "s3", root: "my-bucket", prefix: "prod/mixstack" }],
    ["gs://bucket/backups", { scheme: "gs", root: "bucket", prefix: "backups" }],
  ])("%s", (url, location) => {
    expect(parseStoreUrl(url)).toEqual(location);
  });
  it.each([
    ["ftp://host/dir", /expected file:\/\/\/dir, s3:\/\/bucket\/prefix or gs:\/\/bucket\/prefix/],
    ["file://relative/dir", /needs an absolute path/],
    ["s3:///prefix", /no bucket name/],
  ])("%s is refused, naming BACKUP_TARGET", (url, error) => {
    const result = parseStoreUrl(url);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/^BACKUP_TARGET /);
    expect((result as Error).message).toMatch(error);
  });
});

describe("foldersFromKeys", () => {
  it("finds backup folders under a prefix and ignores loose objects and other prefixes", () => {
    expect(foldersFromKeys("prod", ["prod/b/manifest.json", "prod/a/influx/x", "prod/loose.txt", "other/c/x", "prod/a/y"])).toEqual(["a", "b"]);
    expect(foldersFromKeys("", ["a/x", "b/y/z", "top"])).toEqual(["a", "b"]);
  });
});

describe("Redis state records", () => {
  const records: StateRecord[] = [
    { type: "identity", device: "d-1", user: "u-1" },
    { type: "firstSeen", id: "u-1", day: "2026-11-23" },
    { type: "profile", id: "u-1", props: { $name: '"Ada"', tags: '["a","ü"]' } },
    { type: "group", member: "company:acme", props: { seats: "12" } },
    { type: "deadLetter", id: "1-0", fields: { v: "1", reason: "bad" } },
    { type: "streamEntry", id: "2-5", fields: { v: "1", kind: "track", items: "[]" } },
  ];
  it.each(records)("$type survives a round trip", (record) => {
    const line = encodeStateRecord(record);
    expect(line.endsWith("\n")).toBe(true);
    expect(decodeStateRecord(line.trimEnd(), 1)).toEqual(record);
  });
  it.each([
    ["{", /line 7: not JSON/],
    ['{"type":"profile","id":"u"}', /line 7: not a state record/],
    ['{"type":"unknown"}', /line 7: not a state record/],
  ])("%s is an error naming the line", (line, error) => {
    expect((decodeStateRecord(line, 7) as Error).message).toMatch(error);
  });
  it("orders stream ids numerically", () => {
    expect(["10-0", "9-1", "9-0", "10-2"].sort(compareStreamIds)).toEqual(["9-0", "9-1", "10-0", "10-2"]);
  });
});

describe("progress line", () => {
  const base = { label: "upload", startedAt: 0, bytesDone: 0, shardsDone: 0 };
  it.each([
    [{ ...base, bytesDone: 512 * 1024, bytesTotal: 2 * 1024 * 1024, shardsTotal: 4, shardsDone: 1 }, 10_000, "upload  512.0 KiB / 2.0 MiB  shards 1/4  ETA 0:30"],
    [{ ...base, shardsTotal: 8, shardsDone: 2 }, 60_000, "upload  shards 2/8  ETA 3:00"],
    [{ ...base, shardsTotal: 8 }, 1_000, "upload  shards 0/8  ETA --:--"],
    [{ ...base, bytesDone: 10, bytesTotal: 10 }, 5_000, "upload  10 B / 10 B  ETA 0:00"],
  ])("%o at %d ms", (state, now, text) => {
    expect(formatProgress(state, now)).toBe(text);
  });
  it("has no estimate before anything is done", () => {
    expect(estimateRemainingMs({ ...base, bytesTotal: 100 }, 1000)).toBeUndefined();
  });
});

describe("BACKUP_SCHEDULE", () => {
  it.each(["0 3 * * *", "*/15 * * * *", "* * * * * *"])("%s is accepted", (cron) => {
    expect(parseSchedule(cron)).toBeUndefined();
  });
  it("a wrong expression names the variable", () => {
    expect(parseSchedule("every night")?.message).toMatch(/^BACKUP_SCHEDULE "every night" is not a cron expression/);
  });
});

describe("progress display", () => {
  const collect = () => {
    const lines: string[] = [];
    const logger = { info: (_fields: unknown, message?: string) => lines.push(String(message ?? _fields)) } as unknown as import("../../services/core/log").Logger;
    return { lines, logger };
  };

  it("on a terminal redraws one line with bytes, shards and ETA, then ends it", () => {
    const { lines, logger } = collect();
    const written: string[] = [];
    const tty = { isTTY: true, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const task = progressReporter(logger, tty).start("upload", { bytes: 2048, shards: 2 });
    task.addBytes(1024);
    task.shardDone("s1");
    task.finish();
    expect(lines).toEqual([]);
    expect(written[0]).toMatch(/^\r\x1b\[2Kupload {2}1\.0 KiB \/ 2\.0 KiB {2}shards 0\/2 {2}ETA /);
    expect(written.at(-2)).toMatch(/^\r\x1b\[2Kupload {2}1\.0 KiB \/ 2\.0 KiB {2}shards 1\/2 {2}ETA /);
    expect(written.at(-1)).toBe("\n");
  });

  it("elsewhere writes plain log lines: the start, each shard, and the end", () => {
    const { lines, logger } = collect();
    const pipe = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    const task = progressReporter(logger, pipe, 60_000).start("influxd backup", { shards: 2 });
    task.shardDone("rp autogen shard 1");
    task.shardDone("rp autogen shard 2");
    task.finish();
    expect(lines[0]).toBe("influxd backup: started");
    expect(lines.slice(1, 3)).toEqual(["influxd backup: rp autogen shard 1 (1/2)", "influxd backup: rp autogen shard 2 (2/2)"]);
    expect(lines.at(-1)).toMatch(/^influxd backup {2}shards 2\/2 {2}ETA 0:00$/);
  });
});
