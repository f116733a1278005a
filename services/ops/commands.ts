import { parseArgs } from "node:util";
import type { Command } from "../core/command";
import { createLogger, type Logger } from "../core/log";
import { SettingsError } from "../core/settings";
import { runBackup } from "./backup";
import { listBackups } from "./catalog";
import { openOpsContext, type OpsContext } from "./context";
import { formatBackupList, formatBackupResult, formatRestoreReport, formatVerifyReport } from "./report";
import { restoreBackup, verifyBackup } from "./restore";
import { parseSchedule, startScheduler } from "./scheduler";
import { readOpsSettings, type OpsSettings } from "./settings";

/** The backup agent's commands. Settings are read here, once; everything below gets them passed. */

function logger(command: string): Logger {
  // On a terminal the progress line and the report say enough; logs are for containers.
  return createLogger(`ops-${command}`, process.env.LOG_LEVEL ?? (process.stdout.isTTY ? "warn" : "info"));
}

async function withContext(command: string, work: (ctx: OpsContext, settings: OpsSettings) => Promise<number>): Promise<number> {
  let settings: OpsSettings;
  try {
    settings = readOpsSettings(command);
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const log = logger(command);
  const ctx = await openOpsContext(settings, log);
  try {
    return await work(ctx, settings);
  } catch (error) {
    log.error({ err: error }, (error as Error).message);
    process.stderr.write(`mixstack ${command}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await ctx.close();
  }
}

type ArgOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

function parse<T extends ArgOptions>(argv: string[], options: T) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

export const backupCommand: Command = {
  summary: "back up InfluxDB and the Redis state to BACKUP_TARGET; `backup verify [--from ID|latest]` runs the restore drill",
  usage: "usage: mixstack backup [--json]\n       mixstack backup verify [--from ID|latest] [--json]",
  async run(argv) {
    const { values, positionals } = parse(argv, { from: { type: "string", default: "latest" }, json: { type: "boolean", default: false } });
    if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== "verify")) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    if (positionals[0] === "verify") {
      return withContext("backup verify", async (ctx) => {
        const report = await verifyBackup(ctx, String(values.from));
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatVerifyReport(report));
        return 0;
      });
    }
    return withContext("backup", async (ctx) => {
      const result = await runBackup(ctx);
      process.stdout.write(values.json ? `${JSON.stringify({ manifest: result.manifest, removed: result.removed })}\n` : formatBackupResult(result));
      return 0;
    });
  },
};

export const backupsCommand: Command = {
  summary: "`backups list`: the backups in BACKUP_TARGET, complete or not",
  usage: "usage: mixstack backups list [--json]",
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: "boolean", default: false } });
    if (positionals.length > 1 || (positionals[0] ?? "list") !== "list") {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    return withContext("backups list", async (ctx) => {
      const entries = await listBackups(ctx.store);
      if (values.json) {
        const summary = entries.map(({ id, complete, problem, manifest }) => ({ id, complete, problem, counts: manifest?.influx.counts, redis: manifest?.redis.counts }));
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else process.stdout.write(formatBackupList(entries));
      return 0;
    });
  },
};

export const restoreCommand: Command = {
  summary: "restore --from ID|latest: merge a verified backup into the live system (safe to repeat, no downtime)",
  usage: "usage: mixstack restore --from ID|latest [--json]",
  async run(argv) {
    const { values, positionals } = parse(argv, { from: { type: "string" }, json: { type: "boolean", default: false } });
    if (!values.from || positionals.length) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    return withContext("restore", async (ctx) => {
      const report = await restoreBackup(ctx, String(values.from));
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatRestoreReport(report));
      return report.counts.some((count) => count.liveAfter < count.backup) ? 1 : 0;
    });
  },
};

export const schedulerCommand: Command = {
  summary: "runs `backup` on BACKUP_SCHEDULE (cron, UTC) until stopped; the Docker target's backup job",
  usage: "usage: mixstack scheduler",
  async run() {
    return withContext("scheduler", async (ctx, settings) => {
      const invalid = parseSchedule(settings.BACKUP_SCHEDULE);
      if (invalid) {
        process.stderr.write(`mixstack scheduler: ${invalid.message}\n`);
        return 2;
      }
      const scheduler = startScheduler(ctx, settings.BACKUP_SCHEDULE);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      ctx.logger.info("stopping: waiting for a backup in progress");
      await scheduler.stop();
      return 0;
    });
  },
};
