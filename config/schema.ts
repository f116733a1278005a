import { z } from "zod";
import { cronExpression, field, resourcesShape } from "./fields";
import { platformNameList, type PlatformName, type SettingsOf } from "../components/platforms";
import { secretsShape, type SecretValues } from "./secrets";

/**
 * The stack config: every key under the `mixstack:` namespace of `stacks/Pulumi.<stack>.yaml`, with
 * its default and its documentation. Platform sections (`mixstack:docker`, ...) are validated only
 * for the selected platform, by the schema of its descriptor (components/platforms.ts).
 */

const influxName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected letters, digits and _" });

export const baseShape = {
  platform: z.enum(platformNameList()).describe(`where the stack runs: ${platformNameList().join(", ")} (required)`),
  keepDataOnDestroy: field
    .flag(true)
    .describe("keep volumes/disks (InfluxDB, queue, Grafana, backups) when the stack is destroyed (default true); Docker host directories (docker.dataDir) are kept either way"),
  logLevel: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace"])
    .default("info")
    .describe("LOG_LEVEL of our services (default info)"),
  influxdb: z
    .strictObject({
      database: influxName.default("mixevents").describe("database name (default mixevents)"),
      retention: z
        .string()
        .regex(/^(INF|\d+[hdw])$/, { message: 'expected INF or a duration such as "52w"' })
        .optional()
        .describe("duration of the default retention policy, e.g. 104w, or INF to keep forever (unset: 400d for a new database; an existing database keeps its own)"),
      adminUser: influxName.default("admin").describe("admin user, used by bootstrap and backups (default admin)"),
      writerUser: influxName.default("mixstack_writer").describe("the worker's user, WRITE (and READ) on the database (default mixstack_writer)"),
      readerUser: influxName.default("mixstack_reader").describe("Grafana's user, READ on the database (default mixstack_reader)"),
      ...resourcesShape(2048, 1),
      volumeGb: field.int(20, 1).describe("size of the data volume where the platform sizes volumes (default 20)"),
      external: z
        .strictObject({
          url: z
            .string()
            .regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, { message: "expected http(s)://host[:port]" })
            .describe("base URL of an InfluxDB 1.x API (adminUser + influxAdminPassword are its admin)"),
        })
        .optional()
        .describe("an InfluxDB you run elsewhere instead of the stack's own; its backups are then its provider's job"),
    })
    .prefault({})
    .describe("InfluxDB 1.12"),
  history: z
    .strictObject({
      since: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date such as "2024-01-01"' })
        // Date.parse rolls 2024-02-30 over into March: only a date that reads back the same is real.
        .refine((value) => Number.isFinite(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), { message: "expected a real date" })
        .optional()
        .describe("earliest event time ingest accepts (YYYY-MM-DD), on /import too; unset: the retention when it is finite (influxdb.retention), else two years back"),
    })
    .prefault({})
    .describe("how far back events may go"),
  queue: z
    .strictObject({
      ...resourcesShape(512, 0.5),
      volumeGb: field.int(5, 1).describe("size of the AOF volume where the platform sizes volumes (default 5)"),
      managed: field.flag(false).describe("use the platform's managed Valkey (AWS: ElastiCache, GCP: Memorystore for Valkey) instead of the container (default false)"),
    })
    .prefault({})
    .describe("Valkey (Redis Streams queue and profile state)"),
  ingest: z
    .strictObject({
      ...resourcesShape(768, 1),
      minReplicas: field.int(1, 1).describe("fewest instances where the platform autoscales (default 1)"),
      maxReplicas: field.int(4, 1).describe("most instances where the platform autoscales (default 4)"),
      trackMaxAgeDays: field.int(5, 0).describe("/track refuses events older than this many days, as Mixpanel does; 0: any age (default 5)"),
      trustedProxyHops: z
        .preprocess((value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : value), z.number().int().min(0).max(10))
        .optional()
        .describe("proxies in front of ingest whose X-Forwarded-For entry is trusted (default: the platform's own, Docker 0, AWS 1 for the ALB, GCP 1 for Cloud Run's front end); add yours (a CDN, a reverse proxy)"),
      clientMsPerSecond: field
        .number(100, 0)
        .describe("ingest time (ms per second of one instance) one client address may use before it gets 429; 0: no limit (default 100)"),
    })
    .prefault({})
    .describe("the ingestion API"),
  worker: z
    .strictObject({
      ...resourcesShape(512, 1),
      replicas: field.int(1, 1).describe("worker instances where the platform runs several (default 1)"),
      newEventNamesPerDay: field.int(1000, 1).describe("new event names let into InfluxDB per UTC day; beyond, their events wait in the dead letters (default 1000)"),
      newPropertyKeysPerDay: field.int(5000, 1).describe("new event property keys let into InfluxDB per UTC day; beyond, likewise (default 5000)"),
    })
    .prefault({})
    .describe("queue → InfluxDB worker"),
  grafana: z
    .strictObject({
      ...resourcesShape(512, 0.5),
      anonymousViewer: field
        .flag(false)
        .describe("let anyone who reaches Grafana in without logging in, as a Viewer who can read all event data (any InfluxQL through Grafana's query API), not only the dashboards (default false)"),
      volumeGb: field.int(2, 1).describe("size of Grafana's volume where the platform sizes volumes (default 2)"),
    })
    .prefault({})
    .describe("Grafana"),
  backup: z
    .strictObject({
      schedule: cronExpression.default("0 3 * * *").describe('cron (UTC) of the scheduled backup (default "0 3 * * *")'),
      keepDaily: field.int(7, 1).describe("daily backups kept (default 7)"),
      keepWeekly: field.int(4, 0).describe("weekly backups kept (default 4)"),
      target: z
        .string()
        .regex(/^(file:\/\/\/|s3:\/\/|gs:\/\/)/, { message: "expected file:///dir, s3://bucket/prefix or gs://bucket/prefix" })
        .optional()
        .describe("where backups go; unset: the platform's own store (Docker: the backups volume)"),
      ...resourcesShape(1024, 1),
      volumeGb: field.int(50, 1).describe("size of the backups volume where the platform sizes volumes (default 50)"),
    })
    .prefault({})
    .describe("scheduled backups"),
  ...secretsShape,
};

/** Every top-level key, platform sections accepted as anything here and checked in a second pass. */
export const baseSchema = z.strictObject({
  ...baseShape,
  ...(Object.fromEntries(platformNameList().map((name) => [name, z.unknown().optional()])) as Record<string, z.ZodOptional<z.ZodUnknown>>),
});

/** The shared keys as parsed, before the platform section (what a platform's checks read). */
export type SharedConfig = z.output<z.ZodObject<typeof baseShape>>;

type BaseConfig = Omit<SharedConfig, keyof typeof secretsShape>;

/** The selected platform and its parsed section: `{ platform: "docker", docker: DockerConfig }`. */
export type PlatformConfig = {
  [P in PlatformName]: { platform: P } & { [K in P]: SettingsOf<P> };
}[PlatformName];

export type StackConfig = Omit<BaseConfig, "platform"> &
  PlatformConfig & {
    /** The Pulumi stack name (`local`, `prod`, ...). */
    stack: string;
    /** Secrets given in the stack file (decrypted); the missing ones are generated. */
    secrets: SecretValues;
  };
