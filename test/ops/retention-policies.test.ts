import { beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../services/ops/backup";
import { retentionPolicies } from "../../services/ops/influx-archive";
import { restoreBackup } from "../../services/ops/restore";
import { DB, startOpsStack, type OpsStack } from "./fixtures";

/** A lost database comes back with its retention policies; a merge recreates a missing one. */

let stack: OpsStack;
const hourAgoNs = () => BigInt(Date.now() - 3600_000) * 1_000_000n;

describe("retention policies across a restore", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    // As bootstrap does with INFLUX_RETENTION=90d: a named default policy, plus one for self-metrics.
    await stack.client.query(`CREATE RETENTION POLICY "events_90d" ON ${DB} DURATION 90d REPLICATION 1 SHARD DURATION 1d DEFAULT`);
    await stack.client.query(`CREATE RETENTION POLICY "metrics_7d" ON ${DB} DURATION 7d REPLICATION 1`);
    const t = hourAgoNs();
    await stack.client.write([0, 1, 2].map((i) => `events,event=a distinct_id="u",insert_id="rp-${i}" ${t + BigInt(i)}`).join("\n"), { db: DB });
    await stack.client.write(`pipeline,consumer=w written=5i ${t}`, { db: DB, rp: "metrics_7d" });
    await runBackup(stack.context());
  });

  it("a lost database comes back with the same policies, default and durations, and points in each", async () => {
    const policiesBefore = await retentionPolicies(stack.client, DB);
    await stack.client.query(`DROP DATABASE ${DB}`);
    const report = await restoreBackup(stack.context(), "latest");
    expect(report.mode).toBe("whole");
    expect(await retentionPolicies(stack.client, DB)).toEqual(policiesBefore);
    expect(policiesBefore.find((policy) => policy.default)).toMatchObject({ name: "events_90d", duration: "2160h0m0s", shardGroupDuration: "24h0m0s" });
    expect(report.counts).toEqual([
      { rp: "events_90d", measurement: "events", backup: 3, liveAfter: 3 },
      { rp: "metrics_7d", measurement: "pipeline", backup: 1, liveAfter: 1 },
    ]);
  });

  it("a merge into a live database that lost one policy recreates it with the backup's duration", async () => {
    await stack.client.query(`DROP RETENTION POLICY "metrics_7d" ON ${DB}`);
    const report = await restoreBackup(stack.context(), "latest");
    expect(report.mode).toBe("merge");
    expect(report.created).toEqual(["retention policy metrics_7d"]);
    expect((await retentionPolicies(stack.client, DB)).find((policy) => policy.name === "metrics_7d")).toEqual({
      name: "metrics_7d",
      duration: "168h0m0s",
      shardGroupDuration: "24h0m0s",
      default: false,
    });
    expect(report.counts.find((count) => count.rp === "metrics_7d")).toEqual({ rp: "metrics_7d", measurement: "pipeline", backup: 1, liveAfter: 1 });
  });
});
