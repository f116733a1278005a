import { beforeAll, describe, expect, it } from "vitest";
import { freePort, startServiceProcess, waitFor } from "../../services/dev/processes";
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
    // METRICS_PORT 0: no listener here (9464 may be taken on a shared machine); the next test serves it.
    const scheduler = track(await startServiceProcess({ command: "scheduler", env: { ...stack.env, BACKUP_SCHEDULE: "*/2 * * * * *", LOG_LEVEL: "info", METRICS_PORT: "0" } }));
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

  it("serves /healthz 200 and counts runs on METRICS_PORT; failing runs turn /healthz 503 with their reason until a run succeeds", async () => {
    // Every second (croner's six-field cron): the protected schedule skips the seconds a run overlaps.
    const env = { ...stack.env, BACKUP_SCHEDULE: "* * * * * *" };
    const healthz = async (port: number) => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
      return { status: response.status, text: await response.text() };
    };
    const runs = async (port: number, outcome: string) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      return Number(new RegExp(`^mixstack_backup_runs_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    };
    const listening = (port: number) => () => waitFor(`scheduler /healthz on ${port}`, () => healthz(port).then(() => true, () => false), { timeoutMs: 30_000 }).then(() => undefined);

    const healthyPort = await freePort();
    const healthy = track(await startServiceProcess({ command: "scheduler", env: { ...env, METRICS_PORT: String(healthyPort) }, ready: listening(healthyPort) }));
    await waitFor("a successful scheduled run", async () => (await runs(healthyPort, "success")) >= 1, { timeoutMs: 90_000, intervalMs: 250 });
    expect(await healthz(healthyPort)).toEqual({ status: 200, text: "ok" });
    expect(await runs(healthyPort, "failure")).toBe(0);
    healthy.signal("SIGTERM");
    expect(await healthy.waitForExit(60_000)).toBe(0);

    // A database that does not exist (yet): every run fails, quickly and with a clear message.
    const failingPort = await freePort();
    const failing = track(await startServiceProcess({ command: "scheduler", env: { ...env, METRICS_PORT: String(failingPort), INFLUX_DB: "mixstack_later" }, ready: listening(failingPort) }));
    const unhealthy = await waitFor("/healthz to turn 503", async () => {
      const answer = await healthz(failingPort);
      return answer.status === 503 ? answer : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    expect(unhealthy.text).toMatch(/^last scheduled backup, at \d{4}-\d\d-\d\dT[\d:.]+Z, failed( \(\d+ failed runs in a row\))?: InfluxDB database mixstack_later does not exist at http:\/\/127\.0\.0\.1:\d+$/);
    expect(await runs(failingPort, "failure")).toBeGreaterThanOrEqual(1);
    expect(await runs(failingPort, "success")).toBe(0);

    // Until a later run succeeds: with the database there (and a point in it), the same process turns healthy again.
    await stack.client.query("CREATE DATABASE mixstack_later");
    await stack.client.write(`events,event=Signed\\ Up distinct_id="u1",insert_id="later-1" ${Date.UTC(2026, 9, 1)}000000`, { db: "mixstack_later" });
    await waitFor("/healthz to turn 200 again", async () => (await healthz(failingPort)).status === 200, { timeoutMs: 90_000, intervalMs: 250 }).catch(async (error: Error) => {
      throw new Error(`${error.message}; /healthz says ${(await healthz(failingPort)).text}`);
    });
    expect(await runs(failingPort, "success")).toBeGreaterThanOrEqual(1);
    failing.signal("SIGTERM");
    expect(await failing.waitForExit(60_000)).toBe(0);
  }, 300_000);

  it("refuses a schedule that is not a cron expression, naming BACKUP_SCHEDULE", async () => {
    const result = await runMixstack(["scheduler"], { ...stack.env, BACKUP_SCHEDULE: "nightly" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mixstack scheduler: BACKUP_SCHEDULE "nightly" is not a cron expression/);
  });
});
