import { describe, expect, it } from "vitest";
import { SettingsError } from "../../services/core/settings";
import { funnelListSchema, parseFunnelsJson } from "../../services/query/funnel-definition";
import { defaultQueryLimits } from "../../services/query/limits";
import { readQuerySettings } from "../../services/query/settings";

const base = { INFLUX_URL: "http://127.0.0.1:8086", REDIS_URL: "redis://127.0.0.1:6379", MIXSTACK_QUERY_SECRET: "a-long-secret" };

describe("mixstack query settings", () => {
  it("defaults: port 8090, metrics 9466 (not ingest's and the worker's 9464), UTC, the limits table", () => {
    const settings = readQuerySettings(base);
    expect(settings).toMatchObject({ PORT: 8090, METRICS_PORT: 9466, MIXSTACK_TIME_ZONE: "UTC", funnels: [], MIXSTACK_QUERY_SECRET: ["a-long-secret"], QUERY_CHUNK_SIZE: 10_000 });
    expect(settings.limits).toEqual(defaultQueryLimits);
    expect(readQuerySettings({ ...base, QUERY_MAX_PEOPLE: "10", MIXSTACK_QUERY_SECRET: "first-secret, second-secret" })).toMatchObject({
      limits: { maxPeople: 10 },
      MIXSTACK_QUERY_SECRET: ["first-secret", "second-secret"],
    });
  });

  it.each([
    [{ MIXSTACK_QUERY_SECRET: "" }, /MIXSTACK_QUERY_SECRET: at least one query secret/],
    [{ MIXSTACK_TIME_ZONE: "Mars/Olympus" }, /MIXSTACK_TIME_ZONE: expected an IANA time zone/],
    [{ MIXSTACK_FUNNELS: "[{" }, /MIXSTACK_FUNNELS: not JSON/],
    [{ MIXSTACK_FUNNELS: '[{"name":"f","steps":[{"event":"A"},{"event":"B","where":"properties[\\"x\\"] >"}]}]' }, /MIXSTACK_FUNNELS: \[0\]\.steps\[1\]\.where: not a valid expression: column 18: expected a value after ">"/],
    [{ MIXSTACK_FUNNELS: '[{"name":"f","steps":[{"event":"A"}]}]' }, /at least 2 steps/],
    [{ MIXSTACK_FUNNELS: '[{"name":"f","steps":[{"event":"A"},{"event":"B"}]},{"name":"f","steps":[{"event":"A"},{"event":"B"}]}]' }, /funnel name "f" is used twice/],
    [{ MIXSTACK_FUNNELS: '[{"name":"f","window":{"length":91,"unit":"day"},"steps":[{"event":"A"},{"event":"B"}]}]' }, /longer than 90 days/],
    [{ METRICS_PORT: "8090" }, /METRICS_PORT: must differ from PORT/],
    [{ QUERY_TIMEOUT_MS: "5" }, /QUERY_TIMEOUT_MS/],
    [{ INFLUX_URL: "nope" }, /INFLUX_URL: expected a URL/],
  ])("refuses %j naming the variable", (extra, message) => {
    expect(() => readQuerySettings({ ...base, ...extra })).toThrow(SettingsError);
    expect(() => readQuerySettings({ ...base, ...extra })).toThrow(message);
  });

  it("the funnel schema gives ids by position unless set, and keeps defaults (7 days, sequential)", () => {
    const parsed = funnelListSchema.parse([
      { name: "a", steps: [{ event: "A" }, { event: "B" }] },
      { id: 9, name: "b", steps: [{ event: "A" }, { event: "B", where: 'properties["n"] > 1' }], order: "any" },
    ]);
    expect(parsed.map((funnel) => [funnel.id, funnel.window, funnel.order])).toEqual([
      [1, { length: 7, unit: "day" }, "sequential"],
      [9, { length: 7, unit: "day" }, "any"],
    ]);
    expect(parseFunnelsJson("")).toEqual({ funnels: [] });
  });
});
