import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import { bootstrapInflux, NEW_DATABASE_RETENTION, readBootstrapSettings } from "../../services/worker/bootstrap";
import { influxClient, startTestInflux } from "../harness/services";

/**
 * The finite default retention (docs/privacy.md, "Retention"): a database bootstrap creates without
 * INFLUX_RETENTION keeps 400 days; a database that exists keeps its own duration (an existing stack
 * that never set one stays INF); an explicit INFLUX_RETENTION is applied either way.
 */

const silent = pino({ level: "silent" });
let client: InfluxClient;
let url: string;

const autogen = async (db: string) => (await client.rows(`SHOW RETENTION POLICIES ON "${db}"`)).find((row) => row.name === "autogen")?.duration;

beforeAll(async () => {
  const influx = await startTestInflux();
  client = influxClient(influx);
  url = influx.url;
});

describe("bootstrap's retention", () => {
  it(`gives a new database ${NEW_DATABASE_RETENTION} when INFLUX_RETENTION is unset`, async () => {
    const report = await bootstrapInflux(readBootstrapSettings({ INFLUX_URL: url, INFLUX_DB: "fresh", BOOTSTRAP_INTERNAL_WAIT_S: "0" }), silent);
    expect(report.actions).toContain(`retention policy autogen: ${NEW_DATABASE_RETENTION}, default`);
    expect(await autogen("fresh")).toBe("9600h0m0s");
  });

  it("leaves an existing database's duration alone when INFLUX_RETENTION is unset (an existing stack keeps INF)", async () => {
    await client.query(`CREATE DATABASE "older"`);
    expect(await autogen("older")).toBe("0s");
    const report = await bootstrapInflux(readBootstrapSettings({ INFLUX_URL: url, INFLUX_DB: "older", BOOTSTRAP_INTERNAL_WAIT_S: "0" }), silent);
    expect(report.actions).toContain("retention policy autogen kept (INFLUX_RETENTION unset and the database existed)");
    expect(await autogen("older")).toBe("0s");
  });

  it("applies an explicit INFLUX_RETENTION to an existing database, INF included", async () => {
    await bootstrapInflux(readBootstrapSettings({ INFLUX_URL: url, INFLUX_DB: "older", INFLUX_RETENTION: "52w", BOOTSTRAP_INTERNAL_WAIT_S: "0" }), silent);
    expect(await autogen("older")).toBe("8736h0m0s");
    await bootstrapInflux(readBootstrapSettings({ INFLUX_URL: url, INFLUX_DB: "older", INFLUX_RETENTION: "INF", BOOTSTRAP_INTERNAL_WAIT_S: "0" }), silent);
    expect(await autogen("older")).toBe("0s");
  });
});
