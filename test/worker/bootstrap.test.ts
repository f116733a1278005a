import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { InfluxClient, InfluxError } from "../../services/core/influx";
import { SettingsError } from "../../services/core/settings";
import type { Influxd } from "../../services/dev/processes";
import { bootstrapInflux, readBootstrapSettings, shardDurationFor } from "../../services/worker/bootstrap";
import { startTestInflux } from "../harness/services";

const silent = pino({ level: "silent" });

describe("mixstack bootstrap against an auth-enabled influxd with no users yet", () => {
  let influx: Influxd;
  const env = () => ({
    INFLUX_URL: influx.url,
    INFLUX_DB: "mixevents",
    INFLUX_USER: "admin",
    INFLUX_PASSWORD: "admin 'secret'",
    INFLUX_WRITER_USER: "writer",
    INFLUX_WRITER_PASSWORD: "writer-secret",
    INFLUX_READER_USER: "grafana",
    INFLUX_READER_PASSWORD: "reader-secret",
    INFLUX_RETENTION: "30d",
  });
  const as = (username: string, password: string) => new InfluxClient({ url: influx.url, username, password });

  beforeAll(async () => {
    influx = await startTestInflux({ authEnabled: true });
  });

  it("creates the first admin, the database, the retention policy, the writer and the reader", async () => {
    const report = await bootstrapInflux(readBootstrapSettings(env()), silent);
    expect(report.actions).toEqual([
      "created the first admin user admin",
      "database mixevents exists",
      "retention policy autogen: 30d, default",
      "created writer user writer",
      "writer writer: READ+WRITE on mixevents",
      "created reader user grafana",
      "reader grafana: READ on mixevents",
    ]);
    const admin = as("admin", "admin 'secret'");
    expect(await admin.rows("SHOW USERS")).toEqual([
      { user: "admin", admin: true },
      { user: "writer", admin: false },
      { user: "grafana", admin: false },
    ]);
    expect(await admin.rows('SHOW RETENTION POLICIES ON "mixevents"')).toMatchObject([{ name: "autogen", duration: "720h0m0s", shardGroupDuration: "24h0m0s", default: true }]);
  });

  it("is idempotent: a second run changes nothing and succeeds", async () => {
    const before = await as("admin", "admin 'secret'").rows("SHOW USERS");
    const report = await bootstrapInflux(readBootstrapSettings(env()), silent);
    expect(report.actions).not.toContain("created the first admin user admin");
    expect(report.actions.filter((action) => action.startsWith("created"))).toEqual([]);
    expect(await as("admin", "admin 'secret'").rows("SHOW USERS")).toEqual(before);
    expect(await as("admin", "admin 'secret'").rows('SHOW GRANTS FOR "writer"')).toEqual([{ database: "mixevents", privilege: "ALL PRIVILEGES" }]);
    expect(await as("admin", "admin 'secret'").rows('SHOW GRANTS FOR "grafana"')).toEqual([{ database: "mixevents", privilege: "READ" }]);
  });

  it("lets the writer write and read, and the reader only read", async () => {
    await as("writer", "writer-secret").write(`events,event=x insert_id="1" ${Date.now()}000000`, { db: "mixevents" });
    expect(await as("writer", "writer-secret").rows('SELECT count("insert_id") FROM "events"', { db: "mixevents" })).toMatchObject([{ count: 1 }]);
    expect(await as("grafana", "reader-secret").rows('SELECT count("insert_id") FROM "events"', { db: "mixevents" })).toMatchObject([{ count: 1 }]);
    const refused = await as("grafana", "reader-secret")
      .write(`events,event=y insert_id="2" ${Date.now()}000001`, { db: "mixevents" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InfluxError);
    expect((refused as InfluxError).status).toBe(403);
  });

  it("sets a changed writer password (rotation is re-running bootstrap) and a changed retention, even a short one", async () => {
    await bootstrapInflux(readBootstrapSettings({ ...env(), INFLUX_RETENTION: "3h" }), silent);
    expect(await as("admin", "admin 'secret'").rows('SHOW RETENTION POLICIES ON "mixevents"')).toMatchObject([{ duration: "3h0m0s", shardGroupDuration: "1h0m0s" }]);
    await bootstrapInflux(readBootstrapSettings({ ...env(), INFLUX_WRITER_PASSWORD: "rotated", INFLUX_RETENTION: "INF" }), silent);
    expect(await as("writer", "rotated").rows('SELECT count("insert_id") FROM "events"', { db: "mixevents" })).toMatchObject([{ count: 1 }]);
    const old = await as("writer", "writer-secret").rows("SHOW DATABASES").catch((error: unknown) => error);
    expect((old as InfluxError).status).toBe(401);
    expect(await as("admin", "admin 'secret'").rows('SHOW RETENTION POLICIES ON "mixevents"')).toMatchObject([{ name: "autogen", duration: "0s", shardGroupDuration: "168h0m0s", default: true }]);
  });

  it("fails with a message naming INFLUX_USER when InfluxDB refuses the admin's password", async () => {
    await expect(bootstrapInflux(readBootstrapSettings({ ...env(), INFLUX_PASSWORD: "wrong" }), silent)).rejects.toThrow(/INFLUX_USER "admin"/);
  });
});

describe("shardDurationFor (InfluxDB's defaults, so that a short retention is accepted)", () => {
  it.each([
    ["INF", "7d"],
    ["1h", "1h"],
    ["47h", "1h"],
    ["2d", "1d"],
    ["26w", "1d"],
    ["52w", "7d"],
    ["90m", "1h"],
  ])("%s -> %s", (duration, expected) => {
    expect(shardDurationFor(duration)).toBe(expected);
  });
});

describe("bootstrap settings", () => {
  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ["a missing INFLUX_URL", {}, /INFLUX_URL/],
    ["a retention that is not a duration", { INFLUX_URL: "http://x:8086", INFLUX_RETENTION: "forever" }, /INFLUX_RETENTION: expected INF or a duration/],
    ["a writer without a password", { INFLUX_URL: "http://x:8086", INFLUX_WRITER_USER: "w" }, /INFLUX_WRITER_PASSWORD: required when INFLUX_WRITER_USER is set/],
    ["a password without its user", { INFLUX_URL: "http://x:8086", INFLUX_READER_PASSWORD: "p" }, /INFLUX_READER_USER: required when INFLUX_READER_PASSWORD is set/],
  ])("refuses %s with a message naming the variable", (_, environment, message) => {
    expect(() => readBootstrapSettings(environment)).toThrow(SettingsError);
    expect(() => readBootstrapSettings(environment)).toThrow(message);
  });
});
