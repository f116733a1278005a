import type { EnvFor } from "../../../services/core/settings";
import type { opsEnvironment } from "../../../services/ops/settings";
import { env, text } from "../env";
import { METRICS_PORT, nodeHttpCheckWithReason } from "../health";
import { SERVICES_IMAGE } from "../images";
import { SINGLE, type CatalogueContext, type EnvValue, type ServiceDraft } from "../types";

/** `mixstack backup` on `backup.schedule`: InfluxDB and the Redis state to the backup store. Absent with `influxdb.external` (it backs InfluxDB up over its RPC port). */
export function backup({ config, wiring }: CatalogueContext): ServiceDraft | undefined {
  if (config.influxdb.external) return undefined;
  const { redisUrl, influxUrl, logLevel, backupTarget } = wiring;
  return {
    name: "backup",
    kind: "job",
    description: "InfluxDB (influxd backup -portable) and Redis state to the backup store, with retention",
    image: SERVICES_IMAGE,
    command: ["backup"],
    schedule: {
      cron: config.backup.schedule,
      inStack: {
        command: ["scheduler"],
        env: { METRICS_PORT: text(METRICS_PORT) } satisfies Partial<EnvFor<typeof opsEnvironment, EnvValue>>,
        // Prometheus `/metrics` (mixstack_backup_*) and `/healthz`: 503 after a failed run, or a run
        // longer than the ops lock's lifetime (docs/operations.md).
        ports: [{ name: "metrics", port: METRICS_PORT, protocol: "http", public: false }],
        health: {
          http: { port: "metrics", path: "/healthz" },
          command: nodeHttpCheckWithReason(METRICS_PORT, "/healthz"),
          intervalSeconds: 30,
          timeoutSeconds: 5,
          retries: 3,
          startPeriodSeconds: 30,
        },
      },
    },
    env: {
      REDIS_URL: redisUrl,
      INFLUX_URL: influxUrl,
      INFLUX_DB: text(config.influxdb.database),
      INFLUX_USER: text(config.influxdb.adminUser),
      INFLUX_PASSWORD: [env.secret("influxAdminPassword")],
      INFLUX_BACKUP_ADDR: [env.endpoint("influxdb", "rpc")],
      BACKUP_TARGET: backupTarget.kind === "url" ? text(backupTarget.url) : [env.backupStore()],
      BACKUP_SCHEDULE: text(config.backup.schedule),
      BACKUP_KEEP_DAILY: text(config.backup.keepDaily),
      BACKUP_KEEP_WEEKLY: text(config.backup.keepWeekly),
      MIXSTACK_STACK: text(config.stack),
      LOG_LEVEL: logLevel,
    } satisfies EnvFor<typeof opsEnvironment, EnvValue>,
    ports: [],
    volumes:
      backupTarget.kind === "platform"
        ? [
            {
              name: "backups",
              path: "/backups",
              // The `node` user of the services image.
              uid: 1000,
              gid: 1000,
              purpose: "backups",
              persistence: "required",
              sizeGb: config.backup.volumeGb,
            },
          ]
        : [],
    resources: { memoryMb: config.backup.memoryMb, cpus: config.backup.cpus },
    scaling: SINGLE,
    dependsOn: [
      { service: "influxdb", condition: "healthy" },
      { service: "queue", condition: "healthy" },
      { service: "bootstrap", condition: "completed" },
    ],
    stopGraceSeconds: 60,
  };
}
