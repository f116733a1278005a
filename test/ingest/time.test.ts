import { describe, expect, it } from "vitest";
import { toEpochMs } from "../../services/ingest/time";

describe("toEpochMs", () => {
  it.each([
    ["integer seconds", 1700000000, 1700000000000],
    ["float seconds from the browser", 1795417512.85, 1795417512850],
    ["milliseconds from the Node SDK's Date", 1700000000123, 1700000000123],
    ["fractional milliseconds are rounded", 1700000000123.6, 1700000000124],
    ["numeric string of seconds", "1700000000", 1700000000000],
    ["numeric string of milliseconds", " 1700000000123 ", 1700000000123],
    ["exponent notation", "1.7e9", 1700000000000],
    ["ISO time without a zone is UTC", "2024-01-02T03:04:05", Date.UTC(2024, 0, 2, 3, 4, 5)],
    ["ISO time with Z", "2024-01-02T03:04:05.250Z", Date.UTC(2024, 0, 2, 3, 4, 5, 250)],
    ["ISO time with an offset", "2024-01-02T03:04:05+01:00", Date.UTC(2024, 0, 2, 2, 4, 5)],
    ["ISO date only", "2024-01-02", Date.UTC(2024, 0, 2)],
    ["1e11 is the first millisecond value", 1e11, 1e11],
    ["just below 1e11 is seconds", 99999999999, 99999999999000],
  ])("%s", (_name, input, expected) => {
    expect(toEpochMs(input)).toBe(expected);
  });

  it.each([
    ["a word", "yesterday"],
    ["an empty string", ""],
    ["an object", { t: 1 }],
    ["a list", [1]],
    ["a boolean", true],
    ["null", null],
    ["a date with garbage", "2024-01-02Tnoon"],
    ["an impossible date", "2024-13-45T99:99:99"],
    // Refused at once: a pattern that backtracks would take hours over a megabyte of digits.
    ["a megabyte of digits followed by a letter", `${"1".repeat(1_000_000)}x`],
    ["a megabyte of digits", "1".repeat(1_000_000)],
    ["digits longer than any time", "1".repeat(65)],
    ["an ISO date with a megabyte of fraction digits", `2024-01-02T03:04:05.${"1".repeat(1_000_000)}`],
  ])("%s is not a time", (_name, input) => {
    expect(toEpochMs(input)).toBeUndefined();
  });
});
