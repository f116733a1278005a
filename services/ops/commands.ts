import { parseArgs } from "node:util";
import type { Command } from "../core/command";
import { createLogger, type Logger } from "../core/log";
import { serveMetrics, type MetricsServer } from "../core/metrics-server";
import { withSettings } from "../core/settings";
import { stopSignal } from "../core/signals";
import { runBackup } from "./backup";
import { listBackups } from "./catalog";
import { openOpsContext, type OpsContext } from "./context";
import { formatBackupList, formatBackupResult, formatRestoreReport, formatVerifyReport } from "./report";
import { DamagedBackupError, restoreBackup, verifyBackup } from "./restore";
import { scheduleMetricValues } from "./schedule-status";
import { parseSchedule, startScheduler } from "./scheduler";
import { schedulerRegistry } from "./scheduler-metrics";
import { readOpsSettings, type OpsSettings } from "./settings";
import { openStore } from "./store";

/** The backup agent's commands. Settings are read here, once; everything below gets them passed. */

function logger(command: string, settings: OpsSettings): Logger {
  // On a terminal the progress line and the report say enough; logs are for containers.
  return createLogger(`ops-${command}`, settings.LOG_LEVEL ?? (process.stdout.isTTY ? "warn" : "info"));
}

function withContext(command: string, work: (ctx: OpsContext, settings: OpsSettings) => Promise<number>): Promise<number> {
  return withSettings(() => readOpsSettings(command), (settings) => inContext(command, settings, work));
}

async function inContext(command: string, settings: OpsSettings, work: (ctx: OpsContext, settings: OpsSettings) => Promise<number>): Promise<number> {
  const log = logger(command, settings);
  let ctx: Awaited<ReturnType<typeof openOpsContext>> | undefined;
  try {
    ctx = await openOpsContext(settings, log);
    return await work(ctx, settings);
  } catch (error) {
    log.error({ err: error }, (error as Error).message);
    const hint = error instanceof DamagedBackupError ? "\nanother backup: `mixstack backups list`, then `--from ID`\n" : "";
    process.stderr.write(`mixstack ${command}: ${(error as Error).message}\n${hint}`);
    return 1;
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

type ArgOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/** The parsed arguments, or undefined after printing what is wrong and the usage (exit 2). */
function parse<T extends ArgOptions>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return undefined;
  }
}

export const backupCommand: Command = {
  summary: "back up InfluxDB and the Redis state to BACKUP_TARGET; `backup verify [--from ID|latest]` runs the restore drill",
  usage: "usage: mixstack backup [--json]\n       mixstack backup verify [--from ID|latest] [--json]",
  async run(argv) {
    const parsed = parse(argv, { from: { type: "string", default: "latest" }, json: { type: "boolean", default: false } }, this.usage!);
    if (!parsed) return 2;
    const { values, positionals } = parsed;
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
    const parsed = parse(argv, { json: { type: "boolean", default: false } }, this.usage!);
    if (!parsed) return 2;
    const { values, positionals } = parsed;
    if (positionals.length > 1 || (positionals[0] ?? "list") !== "list") {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    return withSettings(() => readOpsSettings("backups list"), (settings) => listStore(settings, values.json === true));
  },
};

/** `backups list`: the store only, so that listing works when Redis or InfluxDB is what was lost. */
async function listStore(settings: OpsSettings, json: boolean): Promise<number> {
  const store = openStore(settings.BACKUP_TARGET, { s3Endpoint: settings.BACKUP_S3_ENDPOINT, s3Region: settings.AWS_REGION });
  try {
    const entries = await listBackups(store);
    if (json) {
      const summary = entries.map(({ id, complete, problem, manifest }) => ({ id, complete, problem, counts: manifest?.influx.counts, redis: manifest?.redis.counts }));
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else process.stdout.write(formatBackupList(entries));
    return 0;
  } catch (error) {
    process.stderr.write(`mixstack backups list: ${(error as Error).message}\n`);
    return 1;
  }
}

export const restoreCommand: Command = {
  summary: "restore --from ID|latest: merge a verified backup into the live system (safe to repeat, no downtime)",
  usage: "usage: mixstack restore --from ID|latest [--json]",
  async run(argv) {
    const parsed = parse(argv, { from: { type: "string" }, json: { type: "boolean", default: false } }, this.usage!);
    if (!parsed) return 2;
    const { values, positionals } = parsed;
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
  summary: "runs `backup` on BACKUP_SCHEDULE (cron, UTC) until stopped; /metrics and /healthz on METRICS_PORT; the Docker target's backup job",
  usage: "usage: mixstack scheduler",
  run: () => withSettings(() => readOpsSettings("scheduler"), runScheduler),
};

async function runScheduler(settings: OpsSettings): Promise<number> {
  const invalid = parseSchedule(settings.BACKUP_SCHEDULE);
  if (invalid) {
    process.stderr.write(`mixstack scheduler: ${invalid.message}\n`);
    return 2;
  }
  const log = logger("scheduler", settings);
  const backupOnce = async () => {
    const ctx = await openOpsContext(settings, log);
    try {
      return await runBackup(ctx);
    } finally {
      await ctx.close().catch(() => undefined);
    }
  };
  const scheduler = startScheduler(settings.BACKUP_SCHEDULE, backupOnce, log);
  let metrics: MetricsServer | undefined;
  if (settings.METRICS_PORT > 0) {
    const registry = schedulerRegistry(() => scheduleMetricValues(scheduler.status(), scheduler.next()?.getTime()));
    const healthy = () => {
      const health = scheduler.health();
      return health.healthy || { reason: health.reason };
    };
    try {
      metrics = await serveMetrics({ registry, port: settings.METRICS_PORT, healthy });
    } catch (error) {
      // Without its health endpoint the container would only look hung: stop here, visibly.
      await scheduler.stop();
      process.stderr.write(`mixstack scheduler: cannot serve METRICS_PORT ${settings.METRICS_PORT}: ${(error as Error).message}\n`);
      return 1;
    }
  }
  await stopSignal();
  log.info("stopping: waiting for a backup in progress");
  await scheduler.stop();
  await metrics?.close();
  return 0;
}
