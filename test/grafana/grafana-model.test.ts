import { describe, expect, it } from "vitest";
import {
  escapeRegex,
  grafanaQueryText,
  interpolateQueryExpr,
  replaceBackendMacros,
  replaceVariables,
  type VariableModel,
  type VariableState,
} from "./grafana-interpolation";
import { calculateIntervalMs, dashboardRange, formatInterval, panelRange, parseDateMath, roundInterval } from "./grafana-time";

/**
 * The panel tests trust this model of Grafana, so it is pinned to Grafana's own expectations:
 * the cases below restate grafana/grafana's unit tests (InfluxDB `datasource.test.ts`
 * `interpolateQueryExpr`, `rangeutil.test.ts`, `pkg/tsdb/influxdb/models/query_test.go`) and
 * its documented date math.
 */

const at = Date.UTC(2024, 5, 15, 13, 37, 20, 500); // Saturday 2024-06-15 13:37:20.500 UTC
const day = 86_400_000;
const startOfDay = Date.UTC(2024, 5, 15);

describe("Grafana's InfluxQL variable escaping", () => {
  const single: VariableModel = { name: "tempVar", multi: false };
  const multi: VariableModel = { name: "tempVar", multi: true };
  const allOnly: VariableModel = { name: "tempVar", multi: false, includeAll: true };

  it.each([
    ["leaves a plain value alone", "normalValue", single, "my query $tempVar", "normalValue"],
    ["escapes a value inside /.../", "/special/path", single, "select atan(z/sqrt(3.14)), that where path /$tempVar/", "\\/special\\/path"],
    ["escapes a value inside =~ /.../", "/special/path", single, "select atan(z/sqrt(3.14)), that where path =~ /$tempVar/", "\\/special\\/path"],
    ["escapes a value inside !~ /^...$/", "/special/path", single, "select atan(z/sqrt(3.14)), that where path !~ /^$tempVar$/", "\\/special\\/path"],
    ["joins an include-all array inside a regex", ["env", "env2", "env3"], allOnly, "select atan(z/sqrt(3.14)), thing from path =~ /^($tempVar)$/", "(env|env2|env3)"],
    ["leaves a value in quotes alone", "/special/path", single, "select that where path = '$tempVar'", "/special/path"],
    ["leaves a number alone", "12.2", single, "select that where path = '$tempVar'", "12.2"],
    ["escapes multi-value variables everywhere", ["/special/path", "/some/other/path"], multi, "select that where path = '$tempVar'", "(\\/special\\/path|\\/some\\/other\\/path)"],
    ["ignores an unrelated regex earlier in the query", "testmatch", single, `select value where ("tag"::tag =~ /value/) AND where other = $tempVar $timeFilter GROUP BY time($__interval) tz('Europe/London')`, "testmatch"],
    ["leaves a float alone", "1.0", single, "select value / $tempVar from /^measurement$/", "1.0"],
  ] as const)("%s", (_, value, variable, query, expected) => {
    expect(interpolateQueryExpr(typeof value === "string" ? value : [...value], variable, query)).toBe(expected);
  });

  it("escapes every regex character Grafana escapes, and nothing else", () => {
    expect(escapeRegex("a.b*c+d?e^f$g(h)i[j]k{l}m|n/o\\p q-r")).toBe("a\\.b\\*c\\+d\\?e\\^f\\$g\\(h\\)i\\[j\\]k\\{l\\}m\\|n\\/o\\\\p q-r");
  });
});

describe("Grafana's template variable replacement", () => {
  const event: VariableState = {
    model: { name: "event", multi: true, includeAll: true },
    current: ["$__all"],
    options: ["click", "checkout.completed (beta)"],
  };
  const breakdown: VariableState = { model: { name: "breakdown" }, current: "$os", options: ["$os", "mp_lib"] };

  it("expands All without a custom value to every option, escaped", () => {
    expect(replaceVariables(`"event" =~ /^$event$/`, { event })).toBe(`"event" =~ /^(click|checkout\\.completed \\(beta\\))$/`);
  });

  it("inserts a custom All value as written", () => {
    const withAllValue = { ...event, model: { ...event.model, allValue: ".*" } };
    expect(replaceVariables(`"event" =~ /^$event$/`, { event: withAllValue })).toBe(`"event" =~ /^.*$/`);
  });

  it("replaces in one pass: a value that looks like a variable is not replaced again", () => {
    expect(replaceVariables(`GROUP BY "$breakdown"`, { breakdown, os: { model: { name: "os" }, current: "x", options: ["x"] } })).toBe(
      `GROUP BY "$os"`,
    );
  });

  it("accepts ${name} and [[name]] and leaves unknown names for the backend", () => {
    expect(replaceVariables("${breakdown} [[breakdown]] $timeFilter $__interval $tag_event", { breakdown })).toBe(
      "$os $os $timeFilter $__interval $tag_event",
    );
  });

  it("refuses formats it does not model", () => {
    expect(() => replaceVariables("${breakdown:raw}", { breakdown })).toThrow(/not modelled/);
  });
});

describe("Grafana's backend macros", () => {
  const range = { from: 1_700_000_000_000, to: 1_700_003_600_000 };

  it("prints $timeFilter as inclusive millisecond bounds and the interval in its largest unit", () => {
    expect(replaceBackendMacros("WHERE $timeFilter GROUP BY time($__interval), x / $__interval_ms, time($interval)", { range, intervalMs: 20_000 })).toBe(
      "WHERE time >= 1700000000000ms and time <= 1700003600000ms GROUP BY time(20s), x / 20000, time(20s)",
    );
  });

  it.each([
    [1, "1ms"], [500, "500ms"], [1_000, "1s"], [20_000, "20s"], [90_000, "1m"], [3_600_000, "1h"],
    [5_400_000, "1h"], [86_400_000, "1d"], [604_800_000, "7d"], [2_592_000_000, "30d"], [31_536_000_000, "1y"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatInterval(ms)).toBe(text);
  });

  it("replaces variables before the backend macros", () => {
    const database: VariableState = { model: { name: "database" }, current: "mixevents", options: ["mixevents"] };
    expect(grafanaQueryText(`WHERE "database" = '$database' AND $timeFilter`, { database }, { range, intervalMs: 1 })).toBe(
      `WHERE "database" = 'mixevents' AND time >= 1700000000000ms and time <= 1700003600000ms`,
    );
  });
});

describe("Grafana's time ranges and intervals", () => {
  it.each([
    ["now", false, at],
    ["now-7d", false, at - 7 * day],
    ["now/d", false, startOfDay],
    ["now/d", true, startOfDay + day - 1],
    ["now-6d/d", false, startOfDay - 6 * day],
    ["now-1h", false, at - 3_600_000],
  ] as const)("reads %s (round up: %s)", (expression, roundUp, expected) => {
    expect(parseDateMath(expression, at, roundUp)).toBe(expected);
  });

  it("refuses date math it does not model", () => {
    expect(() => parseDateMath("now-1M", at, false)).toThrow(/unsupported/);
    expect(() => parseDateMath("now/w", at, false)).toThrow(/unsupported/);
  });

  it.each([
    ["relative time 7d", { timeFrom: "7d" }, { from: at - 7 * day, to: at }],
    ["relative time now-6d/d (today and six days)", { timeFrom: "now-6d/d" }, { from: startOfDay - 6 * day, to: at }],
    ["yesterday: now/d shifted by 1d/d", { timeFrom: "now/d", timeShift: "1d/d" }, { from: startOfDay - day, to: startOfDay - 1 }],
    ["30 complete days: 29d shifted by 1d/d", { timeFrom: "29d", timeShift: "1d/d" }, { from: startOfDay - 30 * day, to: startOfDay - 1 }],
    ["a plain shift", { timeShift: "1h" }, { from: at - 7 * day - 3_600_000, to: at - 3_600_000 }],
  ])("applies the panel override %s", (_, overrides, expected) => {
    expect(panelRange({ from: "now-7d", to: "now" }, at, overrides)).toEqual(expected);
  });

  it.each([
    [5, 1], [12, 10], [1_000, 1_000], [18_000, 20_000], [36_000, 30_000], [3_024_000, 3_600_000],
    [12_960_000, 10_800_000], [500_000_000, 86_400_000], [4_000_000_000, 31_536_000_000],
  ])("rounds a raw interval of %i ms to %i ms", (raw, rounded) => {
    expect(roundInterval(raw)).toBe(rounded);
  });

  it("never goes below the minimum interval", () => {
    const range = dashboardRange({ from: "now-15m", to: "now" }, at);
    expect(calculateIntervalMs(range, 200, "10s")).toBe(10_000);
    expect(calculateIntervalMs(range, 200)).toBe(5_000);
  });
});
