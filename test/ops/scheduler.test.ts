import { beforeAll, describe, expect, it } from "vitest";
import { startServiceProcess, waitFor } from "../../services/dev/processes";
import { listBackups } from "../../services/ops/catalog";
import { track } from "../harness/services";
import { runMixstack, startOpsStack, writeEvents, type OpsStack } from "./fixtures";

/** `mixstack scheduler`, the Docker target's backup job, as its own process. */

let stack: OpsStack;

describe("mixstack scheduler", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    await writeEvents(stack.client, 200);
  });

  it("runs backups on BACKUP_SCHEDULE, applies retention, and stops cleanly on SIGTERM", async () => {
    const scheduler = track(await startServiceProcess({ command: "scheduler", env: { ...stack.env, BACKUP_SCHEDULE: "*/2 * * * * *", LOG_LEVEL: "info" } }));
    const store = stack.context().store;
    const complete = await waitFor("two scheduled backups", async () => {
      const backups = (await listBackups(store)).filter((backup) => backup.complete);
      // Retention (7 daily) keeps one per day: a second run shows up as a new id replacing the first.
      return scheduler.recentOutput().split("scheduled backup done").length > 2 ? backups : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    expect(complete.length).toBe(1);
    expect(complete[0]!.manifest!.influx.counts).toEqual([{ rp: "autogen", measurement: "events", points: 200 }]);
    // Every retention decision is logged with its reason.
    const log = scheduler.recentOutput();
    expect(log).toMatch(/"reasons":\["newest complete backup".*"msg":"retention: kept backup"/);
    expect(log).toMatch(/"reason":"outside the daily and weekly windows".*"msg":"retention: removed backup"/);
    scheduler.signal("SIGTERM");
    expect(await scheduler.waitForExit(60_000)).toBe(0);
  });

  it("refuses a schedule that is not a cron expression, naming BACKUP_SCHEDULE", async () => {
    const result = await runMixstack(["scheduler"], { ...stack.env, BACKUP_SCHEDULE: "nightly" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mixstack scheduler: BACKUP_SCHEDULE "nightly" is not a cron expression/);
  });
});
