import { z } from "zod";
import { env, readSettings, SettingsError } from "../core/settings";
import { parseFunnelsJson, type FunnelDefinition } from "./funnel-definition";
import { queryLimitSpecs, type QueryLimits } from "./limits";
import { isTimeZone } from "./time-zone";

/**
 * Everything `mixstack query` reads from its environment, once, at start (docs/reports.md,
 * Configuration). The limits come from the one table in `limits.ts`.
 */

/** Default public port; the metrics port differs from ingest's and the worker's (9464). */
export const QUERY_DEFAULT_PORT = 8090;
export const QUERY_DEFAULT_METRICS_PORT = 9466;

const limitFields = Object.fromEntries(
  Object.values(queryLimitSpecs).map((spec) => [spec.env, z.coerce.number().int().min(spec.min).default(spec.default)]),
) as { [Name in keyof typeof queryLimitSpecs as (typeof queryLimitSpecs)[Name]["env"]]: z.ZodDefault<z.ZodNumber> };

export const queryEnvironment = z.object({
  PORT: env.port(QUERY_DEFAULT_PORT),
  /** Prometheus `/metrics` and `/healthz`, never on the public port; 0 turns it off. */
  METRICS_PORT: env.port(QUERY_DEFAULT_METRICS_PORT),
  MIXSTACK_LISTEN_HOST: z.string().default("0.0.0.0"),
  /** InfluxDB 1.x, read with the read-only user bootstrap created. */
  INFLUX_URL: env.url(),
  INFLUX_DB: z.string().min(1).default("mixevents"),
  INFLUX_USER: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  /** The worker's identity map and profiles. */
  REDIS_URL: env.redisUrl(),
  /** The query secret(s), comma-separated (several while rotating); every request must carry one. */
  MIXSTACK_QUERY_SECRET: env.list().refine((secrets) => secrets.length > 0 && secrets.every((secret) => secret.length >= 8), {
    message: "at least one query secret of 8 or more characters is required",
  }),
  /** Saved funnels: a JSON list (services/query/funnel-definition.ts). */
  MIXSTACK_FUNNELS: z.string().optional(),
  /** The project's time zone: report days begin at its midnight. */
  MIXSTACK_TIME_ZONE: z.string().default("UTC").refine(isTimeZone, { message: "expected an IANA time zone such as Europe/Paris" }),
  /** Rows per chunk of InfluxDB's streamed answers. */
  QUERY_CHUNK_SIZE: z.coerce.number().int().min(100).max(100_000).default(10_000),
  /** Device ids per pipelined HMGET of the identity map. */
  QUERY_IDENTITY_BATCH: z.coerce.number().int().min(1).max(100_000).default(2_000),
  ...limitFields,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** The environment under its own names, plus what is derived from it: the parsed funnels and the limits by name. */
export type QuerySettings = z.infer<typeof queryEnvironment> & {
  funnels: FunnelDefinition[];
  limits: QueryLimits;
};

export function readQuerySettings(source: NodeJS.ProcessEnv = process.env): QuerySettings {
  const e = readSettings("query", queryEnvironment, source);
  const invalid = (line: string) => new SettingsError(`mixstack query: invalid environment\n  ${line}`);
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) throw invalid(`METRICS_PORT: must differ from PORT (got ${e.PORT} for both)`);
  const funnels = parseFunnelsJson(e.MIXSTACK_FUNNELS);
  if ("error" in funnels) throw invalid(`MIXSTACK_FUNNELS: ${funnels.error}`);
  const values = e as unknown as Record<string, number>;
  const limits = Object.fromEntries(Object.entries(queryLimitSpecs).map(([name, spec]) => [name, values[spec.env]!])) as QueryLimits;
  for (const funnel of funnels.funnels) {
    if (funnel.steps.length > limits.maxFunnelSteps) throw invalid(`MIXSTACK_FUNNELS: funnel "${funnel.name}" has more than QUERY_MAX_FUNNEL_STEPS (${limits.maxFunnelSteps}) steps`);
  }
  return { ...e, funnels: funnels.funnels, limits };
}
