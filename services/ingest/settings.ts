import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { env, readSettings, SettingsError } from "../core/settings";

/**
 * Everything `mixstack ingest` reads from its environment, read once at start and passed down.
 * Defaults and the reasons behind them are in docs/ingest.md.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

const serviceAccounts = z
  .string()
  .default("")
  .transform((value, context) => {
    const accounts: ServiceAccount[] = [];
    for (const pair of value.split(",").map((item) => item.trim()).filter(Boolean)) {
      const colon = pair.indexOf(":");
      if (colon <= 0 || colon === pair.length - 1) {
        context.addIssue({ code: "custom", message: 'expected "user:secret" pairs, comma-separated' });
        return z.NEVER;
      }
      accounts.push({ username: pair.slice(0, colon), secret: pair.slice(colon + 1) });
    }
    return accounts;
  });

const pathPrefix = z
  .string()
  .default("")
  .transform((value) => value.replace(/\/+$/, ""))
  .refine((value) => value === "" || /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value), {
    message: 'expected a URL path such as "/mp"',
  });

/** `YYYY-MM-DD` (a fixed floor) or `<N>d` (a floor N days before now), for MIXSTACK_HISTORY_SINCE; undefined when it is neither. */
function historyFloor(value: string): HistoryFloor | undefined {
  const days = /^(\d+)d$/.exec(value.trim());
  if (days) return { maxAgeMs: Number(days[1]) * 86_400_000 };
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? Date.parse(`${value.trim()}T00:00:00Z`) : Number.NaN;
  // Date.parse rolls 2024-02-30 over into March: only a date that reads back the same is real.
  return Number.isFinite(date) && new Date(date).toISOString().startsWith(value.trim()) ? { sinceMs: date } : undefined;
}

// Kept as text in the env (what the topology and the contract table show), read as a floor once.
const historySince = z
  .string()
  .default("730d")
  .refine((value) => historyFloor(value) !== undefined, { message: 'expected a date such as "2024-01-01" or a number of days such as "730d"' });

export const ingestEnvironment = z.object({
  PORT: env.port(8080),
  /** Prometheus `/metrics`, on a port of its own that load balancers never forward; 0 turns it off. */
  METRICS_PORT: env.port(9464),
  /** Address of the metrics listener: loopback unless the platform needs it reachable (the topology sets 0.0.0.0 in containers). */
  METRICS_HOST: z.string().default("127.0.0.1"),
  MIXSTACK_LISTEN_HOST: z.string().default("0.0.0.0"),
  REDIS_URL: env.redisUrl(),
  MIXSTACK_TOKEN: env.list().refine((tokens) => tokens.length > 0, { message: "at least one project token is required" }),
  MIXSTACK_API_SECRET: env.list(),
  MIXSTACK_SERVICE_ACCOUNT_SECRETS: serviceAccounts,
  /** `/import` accepts the project token as Basic user (as Mixpanel does); off by default: the token is public. */
  MIXSTACK_IMPORT_TOKEN_AUTH: env.flag(false),
  /** Store an event's `$ip` property (dropped by default, like `ip`: an address is personal data). */
  MIXSTACK_KEEP_IP: env.flag(false),
  MIXSTACK_PATH_PREFIX: pathPrefix,
  MIXSTACK_TLS_CERT_FILE: z.string().optional(),
  MIXSTACK_TLS_KEY_FILE: z.string().optional(),
  MIXSTACK_MAX_STREAM_LENGTH: env.positiveInt(100_000),
  MIXSTACK_QUEUE_TIMEOUT_MS: env.positiveInt(2_000),
  MIXSTACK_MAX_BODY_BYTES: env.positiveInt(1 * MIB),
  MIXSTACK_MAX_IMPORT_BODY_BYTES: env.positiveInt(10 * MIB),
  MIXSTACK_MAX_HEADER_BYTES: z.coerce.number().int().min(64 * KIB, { message: "must be at least 65536 (64 KB)" }).default(256 * KIB),
  MIXSTACK_MAX_ITEMS: env.positiveInt(2_000),
  MIXSTACK_MAX_STRING_LENGTH: env.positiveInt(255),
  MIXSTACK_MAX_PROPERTIES: env.positiveInt(255),
  MIXSTACK_MAX_EVENT_BYTES: env.positiveInt(1 * MIB),
  MIXSTACK_TRACK_MAX_AGE_DAYS: z.coerce.number().min(0).default(5),
  MIXSTACK_HISTORY_SINCE: historySince,
  MIXSTACK_NEW_WEEKS_PER_MINUTE: z.coerce.number().int().min(0).default(10),
  MIXSTACK_CLIENT_MS_PER_SECOND: z.coerce.number().min(0).default(100),
  MIXSTACK_CLIENT_BURST_MS: env.positiveInt(150),
  MIXSTACK_MAX_CONNECTIONS: env.positiveInt(10_000),
  MIXSTACK_QUEUE_MEMORY_PERCENT: z.coerce.number().min(1).max(100).default(60),
  MIXSTACK_GEOIP: env.flag(true),
  MIXSTACK_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  MIXSTACK_STATS_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
  MIXSTACK_SHUTDOWN_GRACE_MS: env.positiveInt(10_000),
  MIXSTACK_KEEP_ALIVE_TIMEOUT_MS: env.positiveInt(65_000),
  MIXSTACK_REQUEST_TIMEOUT_MS: env.positiveInt(30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface ServiceAccount {
  username: string;
  secret: string;
}

/** The earliest event time accepted: a fixed date, or a maximum age (whichever is set). */
export interface HistoryFloor {
  sinceMs?: number;
  maxAgeMs?: number;
}

/** Validation limits, the part of the settings the pure normalisers see. */
export interface Limits {
  maxItems: number;
  /** Body limit of every request but `/import` authenticated with a secret. */
  maxBodyBytes: number;
  /** Body limit of `/import` authenticated with an API secret or a service account. */
  maxImportBodyBytes: number;
  maxStringLength: number;
  /** Properties of an event or profile operation, keys of a nested object, items of a list. */
  maxProperties: number;
  /** Nesting, counting the properties object itself: `{a:{b:{c:1}}}` is depth 3. */
  maxDepth: number;
  maxEventBytes: number;
  /** `/track` events older than this are refused; 0 accepts any age. */
  trackMaxAgeMs: number;
  /** No event (nor profile `$time`) before this is accepted on any route. */
  history: HistoryFloor;
}

/**
 * The environment as read (each variable under its own name, as the worker and the backup agent
 * have it), plus what is derived from it once: the TLS files' contents and the limits the pure
 * normalisers see.
 */
export type IngestSettings = z.output<typeof ingestEnvironment> & {
  /** MIXSTACK_TLS_CERT_FILE and MIXSTACK_TLS_KEY_FILE, read and checked; unset: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  limits: Limits;
  /** `METRICS_PORT` was not set: a taken default falls back to a port the OS picks. */
  metricsPortIsDefault: boolean;
};

export const MAX_DEPTH = 3;

/** Reads and validates the environment; a wrong value throws `SettingsError` naming the variable. */
export function readIngestSettings(source: NodeJS.ProcessEnv = process.env): IngestSettings {
  const e = readSettings("ingest", ingestEnvironment, source);
  if (e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new SettingsError(`mixstack ingest: invalid environment\n  METRICS_PORT: must differ from PORT, which is public (got ${e.METRICS_PORT} for both)`);
  }
  return {
    ...e,
    metricsPortIsDefault: source.METRICS_PORT === undefined || source.METRICS_PORT === "",
    tls: readTls(e.MIXSTACK_TLS_CERT_FILE, e.MIXSTACK_TLS_KEY_FILE),
    limits: {
      maxItems: e.MIXSTACK_MAX_ITEMS,
      maxBodyBytes: e.MIXSTACK_MAX_BODY_BYTES,
      maxImportBodyBytes: Math.max(e.MIXSTACK_MAX_IMPORT_BODY_BYTES, e.MIXSTACK_MAX_BODY_BYTES),
      maxStringLength: e.MIXSTACK_MAX_STRING_LENGTH,
      maxProperties: e.MIXSTACK_MAX_PROPERTIES,
      maxDepth: MAX_DEPTH,
      maxEventBytes: e.MIXSTACK_MAX_EVENT_BYTES,
      trackMaxAgeMs: e.MIXSTACK_TRACK_MAX_AGE_DAYS * 86_400_000,
      history: historyFloor(e.MIXSTACK_HISTORY_SINCE)!,
    },
  };
}

function readTls(certFile: string | undefined, keyFile: string | undefined): IngestSettings["tls"] {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new SettingsError(
      "mixstack ingest: invalid environment\n  MIXSTACK_TLS_CERT_FILE and MIXSTACK_TLS_KEY_FILE must be set together (or neither)",
    );
  }
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new SettingsError(`mixstack ingest: invalid environment\n  ${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const cert = read("MIXSTACK_TLS_CERT_FILE", certFile);
  const key = read("MIXSTACK_TLS_KEY_FILE", keyFile);
  // Checked here, so a wrong file stops ingest with the variable's name rather than a TLS stack trace.
  const invalid = (name: string, file: string, problem: string) =>
    new SettingsError(`mixstack ingest: invalid environment\n  ${name}: ${file} ${problem}`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw invalid("MIXSTACK_TLS_CERT_FILE", certFile, "is not a PEM certificate");
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw invalid("MIXSTACK_TLS_KEY_FILE", keyFile, "is not an unencrypted PEM private key");
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw invalid("MIXSTACK_TLS_KEY_FILE", keyFile, `is not the private key of the certificate in ${certFile}`);
  }
  return { cert, key };
}
