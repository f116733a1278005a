import { describe, expect, it } from "vitest";
import { SettingsError } from "../../services/core/settings";
import { DEFAULT_EVENT_TAGS, readWorkerSettings } from "../../services/worker/settings";

const minimal = { REDIS_URL: "redis://127.0.0.1:6379", INFLUX_URL: "http://127.0.0.1:8086" };

describe("worker settings", () => {
  it("fills the documented defaults", () => {
    expect(readWorkerSettings(minimal)).toMatchObject({
      INFLUX_DB: "mixevents",
      EVENT_TAGS: DEFAULT_EVENT_TAGS,
      WORKER_BATCH_POINTS: 5000,
      WORKER_CLAIM_IDLE_MS: 60_000,
      WORKER_MAX_DELIVERIES: 5,
      WORKER_BACKOFF_MAX_MS: 5_000,
      METRICS_PORT: 9464,
    });
  });

  it("reads EVENT_TAGS as a comma-separated list", () => {
    expect(readWorkerSettings({ ...minimal, EVENT_TAGS: "mp_lib, $os,,plan" }).EVENT_TAGS).toEqual(["mp_lib", "$os", "plan"]);
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ["no REDIS_URL", { INFLUX_URL: "http://x:8086" }, /REDIS_URL: .*it is not set/],
    ["a bad INFLUX_URL", { REDIS_URL: "redis://x:6379", INFLUX_URL: "not a url" }, /INFLUX_URL: expected a URL/],
    ["a batch size that is not a number", { ...minimal, WORKER_BATCH_POINTS: "lots" }, /WORKER_BATCH_POINTS/],
    ["a negative claim idle time", { ...minimal, WORKER_CLAIM_IDLE_MS: "-5" }, /WORKER_CLAIM_IDLE_MS/],
    ["a port out of range", { ...minimal, METRICS_PORT: "70000" }, /METRICS_PORT/],
  ])("refuses %s with a message naming the variable", (_, environment, message) => {
    expect(() => readWorkerSettings(environment)).toThrow(SettingsError);
    expect(() => readWorkerSettings(environment)).toThrow(message);
  });
});
