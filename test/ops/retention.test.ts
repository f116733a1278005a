import { describe, expect, it } from "vitest";
import { isoWeekKey, selectRetention, type StoredBackup } from "../../services/ops/retention";

/** The retention rule as a pure function: which backups a successful backup leaves behind. */

const at = (iso: string, complete = true): StoredBackup => ({ id: iso, time: new Date(iso), complete });

const ids = (backups: StoredBackup[], policy: { keepDaily: number; keepWeekly: number }) => {
  const decision = selectRetention(backups, policy);
  return { keep: decision.keep.map((entry) => entry.id).sort(), remove: decision.remove.map((entry) => entry.id).sort() };
};

// Nightly backups over three weeks (Mon 2026-11-02 .. Sun 2026-11-22), plus a second one on the last day.
const nightly = Array.from({ length: 21 }, (_, day) => at(new Date(Date.UTC(2026, 10, 2 + day, 3)).toISOString()));
const withExtra = [...nightly, at("2026-11-22T15:00:00.000Z")];

describe("selectRetention", () => {
  it.each([
    {
      name: "keeps the newest backup of each of the last N days",
      backups: withExtra,
      policy: { keepDaily: 3, keepWeekly: 0 },
      keep: ["2026-11-20T03:00:00.000Z", "2026-11-21T03:00:00.000Z", "2026-11-22T15:00:00.000Z"],
    },
    {
      name: "keeps the newest backup of each of the last M ISO weeks (weeks start Monday)",
      backups: withExtra,
      policy: { keepDaily: 0, keepWeekly: 3 },
      keep: ["2026-11-08T03:00:00.000Z", "2026-11-15T03:00:00.000Z", "2026-11-22T15:00:00.000Z"],
    },
    {
      name: "daily and weekly windows add up",
      backups: withExtra,
      policy: { keepDaily: 2, keepWeekly: 2 },
      keep: ["2026-11-15T03:00:00.000Z", "2026-11-21T03:00:00.000Z", "2026-11-22T15:00:00.000Z"],
    },
    {
      name: "days without a backup do not use up the daily window",
      backups: [at("2026-11-01T03:00:00.000Z"), at("2026-11-10T03:00:00.000Z"), at("2026-11-20T03:00:00.000Z")],
      policy: { keepDaily: 2, keepWeekly: 0 },
      keep: ["2026-11-10T03:00:00.000Z", "2026-11-20T03:00:00.000Z"],
    },
    {
      name: "a policy of zero still keeps the newest complete backup",
      backups: nightly.slice(0, 3),
      policy: { keepDaily: 0, keepWeekly: 0 },
      keep: ["2026-11-04T03:00:00.000Z"],
    },
    {
      name: "an incomplete newer backup is not the good one: the newest complete is kept, the partial too (may be uploading)",
      backups: [at("2026-11-20T03:00:00.000Z"), at("2026-11-21T03:00:00.000Z"), at("2026-11-22T03:00:00.000Z", false)],
      policy: { keepDaily: 0, keepWeekly: 0 },
      keep: ["2026-11-21T03:00:00.000Z", "2026-11-22T03:00:00.000Z"],
    },
    {
      name: "incomplete backups older than the newest complete one are removed even inside the window",
      backups: [at("2026-11-21T03:00:00.000Z", false), at("2026-11-21T04:00:00.000Z"), at("2026-11-22T03:00:00.000Z")],
      policy: { keepDaily: 7, keepWeekly: 4 },
      keep: ["2026-11-21T04:00:00.000Z", "2026-11-22T03:00:00.000Z"],
    },
    {
      name: "with no complete backup at all nothing is removed",
      backups: [at("2026-11-21T03:00:00.000Z", false), at("2026-11-22T03:00:00.000Z", false)],
      policy: { keepDaily: 1, keepWeekly: 1 },
      keep: ["2026-11-21T03:00:00.000Z", "2026-11-22T03:00:00.000Z"],
    },
  ])("$name", ({ backups, policy, keep }) => {
    const result = ids(backups, policy);
    expect(result.keep).toEqual(keep);
    expect(result.remove).toEqual(backups.map((backup) => backup.id).filter((id) => !keep.includes(id)).sort());
  });

  it("gives a reason for every decision", () => {
    const decision = selectRetention(withExtra, { keepDaily: 1, keepWeekly: 1 });
    expect(decision.keep).toEqual([{ id: "2026-11-22T15:00:00.000Z", reasons: ["newest complete backup", "daily 2026-11-22", "weekly 2026-W47"] }]);
    expect(decision.remove.every((entry) => entry.reason === "outside the daily and weekly windows")).toBe(true);
  });
});

describe("isoWeekKey", () => {
  it.each([
    ["2026-11-22T23:59:59Z", "2026-W47"], // Sunday ends the week
    ["2026-11-23T00:00:00Z", "2026-W48"], // Monday starts the next
    ["2027-01-01T12:00:00Z", "2026-W53"], // Friday 1 Jan belongs to the last week of 2026
    ["2024-12-30T12:00:00Z", "2025-W01"], // Monday 30 Dec belongs to 2025's first week
  ])("%s is in %s", (iso, week) => {
    expect(isoWeekKey(new Date(iso))).toBe(week);
  });
});
