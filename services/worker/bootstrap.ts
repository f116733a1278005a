import { z } from "zod";
import type { Command } from "../core/command";
import { InfluxClient, InfluxError, quoteIdentifier, quoteString } from "../core/influx";
import { createLogger, type Logger } from "../core/log";
import { SettingsError, env, readSettings, withSettings } from "../core/settings";
import { waitFor } from "../core/wait";

/**
 * `mixstack bootstrap`: makes InfluxDB ready for the worker and Grafana, idempotently. Deployments run
 * it before the worker; the image's first-boot env is not used (it makes restores fail, and it runs
 * only on an empty volume). Steps, each safe to repeat:
 * 1. wait for InfluxDB to answer `/ping`;
 * 2. the admin user (`INFLUX_USER`): on an auth-enabled InfluxDB with no user yet, create it (InfluxDB
 *    allows exactly that one statement without credentials); with auth disabled, create it if missing;
 * 3. `CREATE DATABASE` and the default retention policy `autogen` with `INFLUX_RETENTION`;
 * 4. the writer (READ+WRITE on the database: the worker reads field types at start) and the reader
 *    (READ, for Grafana); their passwords are set to the configured ones every time, so rotating a
 *    password is re-running bootstrap;
 * 5. the reader also gets READ on `_internal`, InfluxDB's own statistics (Grafana's pipeline-health
 *    panels read them), once influxd's monitor has created it; without a monitor store that step is
 *    skipped with a warning.
 */

export const bootstrapEnvironment = z.object({
  INFLUX_URL: env.url(),
  INFLUX_DB: z.string().min(1).default("mixevents"),
  INFLUX_USER: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  INFLUX_WRITER_USER: z.string().optional(),
  INFLUX_WRITER_PASSWORD: z.string().optional(),
  INFLUX_READER_USER: z.string().optional(),
  INFLUX_READER_PASSWORD: z.string().optional(),
  /** Unset: a new database gets `NEW_DATABASE_RETENTION`, an existing one keeps its own (docs/privacy.md). */
  INFLUX_RETENTION: z
    .string()
    .regex(/^(INF|\d+[mhdw])$/i, { message: "expected INF or a duration such as 30d, 52w, 720h" })
    .optional(),
  /** How long to wait for InfluxDB to answer before giving up. */
  BOOTSTRAP_WAIT_S: env.positiveInt(120),
  /** How long to wait for influxd's monitor to create `_internal` (for the reader's grant); 0: do not wait. */
  BOOTSTRAP_INTERNAL_WAIT_S: z.coerce.number().int().min(0).default(30),
  LOG_LEVEL: z.string().default("info"),
});

export type BootstrapSettings = z.infer<typeof bootstrapEnvironment>;

/**
 * The default retention of a database bootstrap creates when `INFLUX_RETENTION` is unset: a finite
 * window (events are personal data; keep what you use), a little over 13 months so that a whole
 * month compares with the same month a year before. A database that exists keeps its duration.
 */
export const NEW_DATABASE_RETENTION = "400d";

export function readBootstrapSettings(source: NodeJS.ProcessEnv = process.env): BootstrapSettings {
  const settings = readSettings("bootstrap", bootstrapEnvironment, source);
  const pairs: Array<[string, string | undefined, string, string | undefined]> = [
    ["INFLUX_USER", settings.INFLUX_USER, "INFLUX_PASSWORD", settings.INFLUX_PASSWORD],
    ["INFLUX_WRITER_USER", settings.INFLUX_WRITER_USER, "INFLUX_WRITER_PASSWORD", settings.INFLUX_WRITER_PASSWORD],
    ["INFLUX_READER_USER", settings.INFLUX_READER_USER, "INFLUX_READER_PASSWORD", settings.INFLUX_READER_PASSWORD],
  ];
  const problems = pairs
    .filter(([, user, , password]) => Boolean(user) !== Boolean(password))
    .map(([userName, user, passwordName]) => (user ? `  ${passwordName}: required when ${userName} is set` : `  ${userName}: required when ${passwordName} is set`));
  if (problems.length > 0) throw new SettingsError(`mixstack bootstrap: invalid environment\n${problems.join("\n")}`);
  return settings;
}

const NO_ADMIN_YET = "create admin user first";

const HOURS_PER_UNIT: Record<string, number> = { m: 1 / 60, h: 1, d: 24, w: 168 };

/**
 * InfluxDB's own default shard group duration for a retention period (< 2 days: 1h, up to 6 months:
 * 1d, longer or infinite: 7d). ALTER keeps the old shard duration otherwise, and InfluxDB refuses a
 * retention shorter than its shards.
 */
export function shardDurationFor(duration: string): string {
  if (duration === "INF") return "7d";
  const hours = Number(duration.slice(0, -1)) * HOURS_PER_UNIT[duration.slice(-1)]!;
  if (hours < 48) return "1h";
  if (hours <= 24 * 183) return "1d";
  return "7d";
}

export interface BootstrapReport {
  /** What was done, one line per step, for the log and for tests. */
  actions: string[];
}

interface UserRow {
  user: string;
  admin: boolean;
}

async function users(client: InfluxClient): Promise<UserRow[]> {
  const rows = await client.rows("SHOW USERS");
  return rows.map((row) => ({ user: String(row.user), admin: row.admin === true }));
}

export async function bootstrapInflux(settings: BootstrapSettings, log: Logger): Promise<BootstrapReport> {
  const actions: string[] = [];
  const url = settings.INFLUX_URL;
  const anonymous = new InfluxClient({ url });
  const admin = new InfluxClient({ url, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD });

  await waitFor(`InfluxDB at ${url}`, () => anonymous.ping(), { timeoutMs: settings.BOOTSTRAP_WAIT_S * 1000, intervalMs: 500 });

  if (settings.INFLUX_USER && settings.INFLUX_PASSWORD) {
    const name = quoteIdentifier(settings.INFLUX_USER);
    const password = quoteString(settings.INFLUX_PASSWORD);
    let existing: UserRow[];
    try {
      existing = await users(admin);
    } catch (error) {
      if (!(error instanceof InfluxError) || !error.message.includes(NO_ADMIN_YET)) {
        if (error instanceof InfluxError && error.status === 401) {
          throw new Error(`InfluxDB at ${url} does not accept INFLUX_USER "${settings.INFLUX_USER}" with INFLUX_PASSWORD (${error.message})`);
        }
        throw error;
      }
      // Auth is on and there is no user at all: the one statement InfluxDB accepts without credentials.
      await anonymous.query(`CREATE USER ${name} WITH PASSWORD ${password} WITH ALL PRIVILEGES`);
      actions.push(`created the first admin user ${settings.INFLUX_USER}`);
      existing = await users(admin);
    }
    const row = existing.find((candidate) => candidate.user === settings.INFLUX_USER);
    if (!row) {
      await admin.query(`CREATE USER ${name} WITH PASSWORD ${password} WITH ALL PRIVILEGES`);
      actions.push(`created admin user ${settings.INFLUX_USER}`);
    } else {
      // Keeps the configured password authoritative (matters only where auth is off; with auth on it already matched).
      await admin.query(`SET PASSWORD FOR ${name} = ${password}`);
      if (!row.admin) {
        await admin.query(`GRANT ALL PRIVILEGES TO ${name}`);
        actions.push(`made ${settings.INFLUX_USER} an admin`);
      }
    }
  }

  const db = quoteIdentifier(settings.INFLUX_DB);
  const existed = (await admin.rows("SHOW DATABASES")).some((row) => row.name === settings.INFLUX_DB);
  await admin.query(`CREATE DATABASE ${db}`);
  actions.push(`database ${settings.INFLUX_DB} exists`);

  // A stack that never set a retention keeps what its database has (INF before the finite default).
  const wanted = settings.INFLUX_RETENTION ?? (existed ? undefined : NEW_DATABASE_RETENTION);
  if (wanted === undefined) {
    actions.push("retention policy autogen kept (INFLUX_RETENTION unset and the database existed)");
  } else {
    const duration = wanted.toUpperCase() === "INF" ? "INF" : wanted.toLowerCase();
    const policies = await admin.rows(`SHOW RETENTION POLICIES ON ${db}`);
    const hasAutogen = policies.some((policy) => policy.name === "autogen");
    const statement = hasAutogen ? "ALTER" : "CREATE";
    const shards = shardDurationFor(duration);
    await admin.query(`${statement} RETENTION POLICY "autogen" ON ${db} DURATION ${duration} REPLICATION 1 SHARD DURATION ${shards} DEFAULT`);
    actions.push(`retention policy autogen: ${duration}, default`);
  }

  const present = new Set((await users(admin)).map((row) => row.user));
  const roles: Array<[string | undefined, string | undefined, "ALL" | "READ", string]> = [
    [settings.INFLUX_WRITER_USER, settings.INFLUX_WRITER_PASSWORD, "ALL", "writer"],
    [settings.INFLUX_READER_USER, settings.INFLUX_READER_PASSWORD, "READ", "reader"],
  ];
  for (const [user, secret, privilege, role] of roles) {
    if (!user || !secret) continue;
    const name = quoteIdentifier(user);
    if (present.has(user)) {
      await admin.query(`SET PASSWORD FOR ${name} = ${quoteString(secret)}`);
    } else {
      await admin.query(`CREATE USER ${name} WITH PASSWORD ${quoteString(secret)}`);
      actions.push(`created ${role} user ${user}`);
    }
    // GRANT sets the privilege on the database (it replaces a previous one), so this is exact.
    await admin.query(`GRANT ${privilege} ON ${db} TO ${name}`);
    actions.push(`${role} ${user}: ${privilege === "ALL" ? "READ+WRITE" : "READ"} on ${settings.INFLUX_DB}`);
  }
  if (settings.INFLUX_READER_USER && settings.INFLUX_READER_PASSWORD) {
    const hasInternal = async () => (await admin.rows("SHOW DATABASES")).some((row) => row.name === "_internal");
    let present = await hasInternal();
    if (!present && settings.BOOTSTRAP_INTERNAL_WAIT_S > 0) {
      present = await waitFor("_internal", hasInternal, { timeoutMs: settings.BOOTSTRAP_INTERNAL_WAIT_S * 1000, intervalMs: 500 }).catch(() => false);
    }
    if (present) {
      await admin.query(`GRANT READ ON "_internal" TO ${quoteIdentifier(settings.INFLUX_READER_USER)}`);
      actions.push(`reader ${settings.INFLUX_READER_USER}: READ on _internal`);
    } else {
      log.warn("InfluxDB has no _internal database (monitor store disabled?): the reader gets no READ on it; run bootstrap again once it exists");
    }
  }
  for (const action of actions) log.info(action);
  return { actions };
}

export const bootstrapCommand: Command = {
  summary: "create the InfluxDB database, retention policy, users and grants (idempotent; run before the worker)",
  usage: [
    "usage: mixstack bootstrap",
    "",
    "Reads INFLUX_URL, INFLUX_DB, INFLUX_USER/INFLUX_PASSWORD (admin), INFLUX_WRITER_USER/_PASSWORD,",
    "INFLUX_READER_USER/_PASSWORD, INFLUX_RETENTION (unset: 400d for a new database, an existing one keeps its own), BOOTSTRAP_WAIT_S (120), BOOTSTRAP_INTERNAL_WAIT_S (30).",
  ].join("\n"),
  run: () =>
    withSettings(readBootstrapSettings, async (settings) => {
      const log = createLogger("bootstrap", settings.LOG_LEVEL);
      try {
        await bootstrapInflux(settings, log);
        return 0;
      } catch (error) {
        log.error({ err: (error as Error).message }, "bootstrap failed");
        process.stderr.write(`mixstack bootstrap: ${(error as Error).message}\n`);
        return 1;
      }
    }),
};
