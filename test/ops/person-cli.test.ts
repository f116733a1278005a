import { describe, expect, it } from "vitest";
import { runMixstack } from "./fixtures";

/** `mixstack forget` / `export-person` as an operator types them: routing to a stack, and the usage errors (exit 2). */

const noStore = { REDIS_URL: "", INFLUX_URL: "", INFLUX_BACKUP_ADDR: "", BACKUP_TARGET: "" };

describe("mixstack forget and export-person from the command line", () => {
  it("forget --stack NAME runs on the deployed stack, like backup (here: no pulumi CLI, so a clear error)", async () => {
    const result = await runMixstack(["forget", "user-1", "--stack", "prod"], { PATH: "/usr/bin:/bin", PULUMI_HOME: "/nonexistent" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mixstack forget --stack prod: cannot open stack prod \(is the pulumi CLI installed/m);
  });

  it("export-person has no --stack: its output would land in the platform's logs", async () => {
    const result = await runMixstack(["export-person", "user-1", "--stack", "prod"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--stack'/);
  });

  it.each([
    [["forget"], "name at least one distinct_id"],
    [["forget", "--reapply", "user-1"], "--reapply takes no ids"],
    [["forget", "--request", '{"distinct_ids":"u1"}'], "--request: distinct_ids"],
    [["forget", "u1", "--drain-timeout", "soon"], "--drain-timeout must be a number of seconds"],
    [["export-person"], "name at least one distinct_id"],
  ])("%j is a usage error: %s", async (args, message) => {
    const result = await runMixstack(args, noStore);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("a missing environment is named, and FORGET_BACKUPS is checked", async () => {
    const missing = await runMixstack(["forget", "u1"], noStore);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/mixstack forget: invalid environment\n {2}REDIS_URL: .*it is not set/);
    const wrong = await runMixstack(["forget", "u1"], {
      REDIS_URL: "redis://127.0.0.1:1",
      INFLUX_URL: "http://127.0.0.1:1",
      INFLUX_BACKUP_ADDR: "127.0.0.1:1",
      BACKUP_TARGET: "file:///tmp/nowhere",
      FORGET_BACKUPS: "shred",
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('FORGET_BACKUPS: expected age-out or replace (got "shred")');
  });
});
