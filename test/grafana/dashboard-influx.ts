import { InfluxClient } from "../../services/core/influx";
import { waitFor } from "../../services/dev/ports";
import { startInfluxd, type Influxd } from "../../services/dev/processes";
import { toLine, type Point } from "./dataset";

/**
 * An influxd set up as a deployed stack sets it up for Grafana: authentication on, an admin, the
 * analytics database, a read-only user with READ on it and on `_internal`, and the monitor store
 * writing InfluxDB's own statistics (on by default in the influxdb image, off in the shared
 * harness config, so switched on here through influxd's `INFLUXDB_<SECTION>_<KEY>` environment).
 */

export const readerCredentials = { username: "grafana", password: "reader-password" };
const adminCredentials = { username: "admin", password: "admin-password" };

export interface DashboardInflux {
  server: Influxd;
  dir: string;
  admin: InfluxClient;
  /** The data source's user: every panel query runs as this one. */
  reader: InfluxClient;
  write(points: readonly Point[]): Promise<void>;
}

async function withEnv<T>(vars: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Starts the influxd; the caller stops it (tests: `track` from the harness). */
export async function startDashboardInflux(options: { dir: string; database: string; monitorInterval?: string; existing?: boolean }): Promise<DashboardInflux> {
  const server = await withEnv(
    { INFLUXDB_MONITOR_STORE_ENABLED: "true", INFLUXDB_MONITOR_STORE_INTERVAL: options.monitorInterval ?? "1s" },
    () => startInfluxd({ dir: options.dir, authEnabled: true }),
  );
  try {
    // `existing`: a data directory this function set up before (the benchmark keeps one between runs).
    if (!options.existing) {
      await new InfluxClient({ url: server.url }).query(
        `CREATE USER "${adminCredentials.username}" WITH PASSWORD '${adminCredentials.password}' WITH ALL PRIVILEGES`,
      );
    }
    const admin = new InfluxClient({ url: server.url, ...adminCredentials, timeoutMs: 3_600_000 });
    await admin.query(`CREATE DATABASE "${options.database}"`);
    if (!options.existing) await admin.query(`CREATE USER "${readerCredentials.username}" WITH PASSWORD '${readerCredentials.password}'`);
    await admin.query(`GRANT READ ON "${options.database}" TO "${readerCredentials.username}"`);
    await waitFor("influxd's monitor to create _internal", async () => JSON.stringify(await admin.query("SHOW DATABASES")).includes('"_internal"'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await admin.query(`GRANT READ ON "_internal" TO "${readerCredentials.username}"`);
    return {
      server,
      dir: options.dir,
      admin,
      reader: new InfluxClient({ url: server.url, ...readerCredentials, timeoutMs: 3_600_000 }),
      async write(points) {
        for (let start = 0; start < points.length; start += 5000) {
          await admin.write(points.slice(start, start + 5000).map(toLine).join("\n"), { db: options.database, gzip: true });
        }
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
