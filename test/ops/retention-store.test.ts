import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../services/ops/backup";
import { backupIdFor } from "../../services/ops/backup-id";
import { listBackups } from "../../services/ops/catalog";
import { DB, startOpsStack, writeEvents, type OpsStack } from "./fixtures";

/** Retention applied by real backups to a real store: after success only, never the only good one. */

let stack: OpsStack;
const day = (date: number, hour = 3) => new Date(Date.UTC(2026, 10, date, hour));

async function stored(): Promise<string[]> {
  return (await listBackups(stack.context().store)).map((entry) => entry.id);
}

describe("retention after real backups", () => {
  beforeAll(async () => {
    stack = await startOpsStack();
    await writeEvents(stack.client, 100);
  });

  it("keeps the newest of the last 2 days and of the last 2 weeks, removes the rest and older partial uploads", async () => {
    // A partial upload from a crashed run on the 9th: no manifest.
    const partial = backupIdFor(day(9));
    await mkdir(join(stack.backupDir, partial, "influx"), { recursive: true });
    await writeFile(join(stack.backupDir, partial, "influx", "x.s1.tar.gz"), "partial");
    for (const date of [10, 11, 16, 17, 18]) {
      await runBackup(stack.context({ now: () => day(date), retention: { keepDaily: 2, keepWeekly: 2 } }));
    }
    // Weeks: 9–15 (newest: the 11th), 16–22 (newest: the 18th); days: the 17th and the 18th.
    expect(await stored()).toEqual([backupIdFor(day(11)), backupIdFor(day(17)), backupIdFor(day(18))]);
  });

  it("a policy of zero keeps the only good backup", async () => {
    await runBackup(stack.context({ now: () => day(19), retention: { keepDaily: 0, keepWeekly: 0 } }));
    expect(await stored()).toEqual([backupIdFor(day(19))]);
  });

  it("a failed backup removes nothing", async () => {
    // Retention would remove this partial upload (older than the newest complete backup)...
    const partial = backupIdFor(day(18, 5));
    await mkdir(join(stack.backupDir, partial), { recursive: true });
    await writeFile(join(stack.backupDir, partial, "redis-state.ndjson.gz"), "partial");
    await stack.client.query(`DROP DATABASE ${DB}`);
    await expect(runBackup(stack.context({ now: () => day(20), retention: { keepDaily: 0, keepWeekly: 0 } }))).rejects.toThrow(
      `InfluxDB database ${DB} does not exist`,
    );
    // ...but it only runs after a successful backup.
    expect(await stored()).toEqual([partial, backupIdFor(day(19))]);
  });
});
