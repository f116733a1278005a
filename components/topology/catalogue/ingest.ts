import type { EnvFor } from "../../../services/core/settings";
import type { ingestEnvironment } from "../../../services/ingest/settings";
import { env, text } from "../env";
import { METRICS_PORT, nodeHttpCheck, nodeHttpsCheck } from "../health";
import { SERVICES_IMAGE } from "../images";
import type { CatalogueContext, EnvValue, ServiceDraft, TlsFiles } from "../types";

/** Where ingest finds its certificate and key when it serves HTTPS itself (Docker with `docker.tls`). */
export const INGEST_TLS_FILES: TlsFiles = { certPath: "/run/mixstack/tls/cert.pem", keyPath: "/run/mixstack/tls/key.pem" };

/**
 * The earliest event time ingest accepts (MIXSTACK_HISTORY_SINCE): `history.since`, else a finite
 * retention (older points would be dropped by InfluxDB anyway), else two years back.
 */
export function historySince(config: CatalogueContext["config"]): string {
  if (config.history.since !== undefined) return config.history.since;
  const retention = /^(\d+)([hdw])$/.exec(config.influxdb.retention ?? "");
  if (!retention) return "730d";
  const amount = Number(retention[1]);
  const days = retention[2] === "w" ? amount * 7 : retention[2] === "d" ? amount : Math.ceil(amount / 24);
  return `${Math.max(1, days)}d`;
}

/** `mixstack ingest`: the Mixpanel-compatible ingestion API (public). */
export function ingest({ config, options, wiring }: CatalogueContext): ServiceDraft {
  const { redisUrl, logLevel } = wiring;
  // Only where the platform hands the certificate to the service (Docker with `docker.tls`); the
  // clouds terminate TLS at their load balancers.
  const ingestTls = options.serviceTls ? INGEST_TLS_FILES : undefined;
  const ingestPort = 8080;
  return {
    name: "ingest",
    kind: "stateless",
    description: "the Mixpanel-compatible ingestion API",
    image: SERVICES_IMAGE,
    command: ["ingest"],
    env: {
      PORT: text(ingestPort),
      METRICS_PORT: text(METRICS_PORT),
      // Other containers scrape it; the platforms never route public traffic to this port.
      METRICS_HOST: text("0.0.0.0"),
      REDIS_URL: redisUrl,
      MIXSTACK_TOKEN: [env.secret("projectToken")],
      MIXSTACK_API_SECRET: [env.secret("apiSecret")],
      ...(ingestTls ? { MIXSTACK_TLS_CERT_FILE: text(ingestTls.certPath), MIXSTACK_TLS_KEY_FILE: text(ingestTls.keyPath) } : {}),
      MIXSTACK_TRACK_MAX_AGE_DAYS: text(config.ingest.trackMaxAgeDays),
      MIXSTACK_HISTORY_SINCE: text(historySince(config)),
      MIXSTACK_CLIENT_MS_PER_SECOND: text(config.ingest.clientMsPerSecond),
      MIXSTACK_TRUSTED_PROXY_HOPS: text(config.ingest.trustedProxyHops ?? options.trustedProxyHops),
      LOG_LEVEL: logLevel,
    } satisfies EnvFor<typeof ingestEnvironment, EnvValue>,
    ports: [
      { name: "http", port: ingestPort, protocol: "http", public: true },
      { name: "metrics", port: METRICS_PORT, protocol: "http", public: false },
    ],
    volumes: [],
    tls: ingestTls,
    health: {
      http: { port: "http", path: "/healthz" },
      readinessPath: "/readyz",
      command: ingestTls ? nodeHttpsCheck(ingestPort, "/healthz") : nodeHttpCheck(ingestPort, "/healthz"),
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 20,
    },
    resources: { memoryMb: config.ingest.memoryMb, cpus: config.ingest.cpus },
    scaling: { min: config.ingest.minReplicas, max: Math.max(config.ingest.minReplicas, config.ingest.maxReplicas) },
    dependsOn: [{ service: "queue", condition: "healthy" }],
    stopGraceSeconds: 30,
  };
}
