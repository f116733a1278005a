import { beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../services/ops/backup";
import { databaseExists, dropDatabase, retentionPolicies } from "../../services/ops/influx-archive";
import { restoreBackup, verifyBackup } from "../../services/ops/restore";
import { DB, startOpsStack, type OpsStack } from "./fixtures";

/**
 * A stack deployed before its first event: bootstrap made the database and its retention policy,
 * nothing wrote a point yet. Its scheduled backups must succeed (influxd 1.6.7 refuses to restore a
 * backup without shards, so the scratch check cannot be the test of such an archive) and restore.
 */
let stack: OpsStack;

beforeAll(async () => {
  stack = await startOpsStack();
  await stack.client.query(`CREATE RETENTION POLICY "ninety" ON "${DB}" DURATION 90d REPLICATION 1`);
  await stack.redis.hSet("mx:idmap", "device-1", "user-1");
});

describe("a database without any point yet", () => {
  it("backs up, with zero shards and no counts", async () => {
    const result = await runBackup(stack.context());
    expect(result.manifest.influx.shards).toBe(0);
    expect(result.manifest.influx.counts).toEqual([]);
    expect(result.manifest.influx.retentionPolicies.map((policy) => policy.name).sort()).toEqual(["autogen", "ninety"]);
  });

  it("passes the restore drill", async () => {
    const report = await verifyBackup(stack.context(), "latest");
    expect(report.counts).toEqual([]);
  });

  it("restores into the live database (nothing to merge) and after the database was lost (recreated with its policies)", async () => {
    const merged = await restoreBackup(stack.context(), "latest");
    expect(merged.mode).toBe("merge");
    expect(merged.pointsWritten).toBe(0);

    await dropDatabase(stack.client, DB);
    await stack.redis.flushAll();
    const whole = await restoreBackup(stack.context(), "latest");
    expect(whole.mode).toBe("whole");
    expect(await databaseExists(stack.client, DB)).toBe(true);
    expect((await retentionPolicies(stack.client, DB)).map((policy) => `${policy.name} ${policy.duration}`).sort()).toEqual(["autogen 0s", "ninety 2160h0m0s"]);
    expect(await stack.redis.hGet("mx:idmap", "device-1")).toBe("user-1");
  });
});
