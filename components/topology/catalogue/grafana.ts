import { env, text } from "../env";
import { SINGLE, type CatalogueContext, type ServiceDraft, type TlsFiles } from "../types";

/** Where Grafana finds the certificate and key when it serves HTTPS itself (Docker with `docker.tls`, the files ingest uses). */
export const GRAFANA_TLS_FILES: TlsFiles = { certPath: "/run/mixstack/tls/cert.pem", keyPath: "/run/mixstack/tls/key.pem" };

/** Grafana with the provisioned InfluxDB data source and the dashboards (grafana/). */
export function grafana({ config, options, wiring }: CatalogueContext): ServiceDraft {
  const { influxUrl } = wiring;
  const tls = options.serviceTls ? GRAFANA_TLS_FILES : undefined;
  const health = tls
    ? // The certificate names the public host, not 127.0.0.1: the check asks "alive?", not "trusted?".
      "wget -q --no-check-certificate -O /dev/null https://127.0.0.1:3000/api/health || curl -skf -o /dev/null https://127.0.0.1:3000/api/health"
    : "wget -q -O /dev/null http://127.0.0.1:3000/api/health || curl -sf -o /dev/null http://127.0.0.1:3000/api/health";
  return {
    name: "grafana",
    kind: "stateless",
    description: "Grafana with the provisioned InfluxDB data source and dashboards",
    image: { kind: "build", build: "grafana" },
    env: {
      GF_SECURITY_ADMIN_USER: text("admin"),
      GF_SECURITY_ADMIN_PASSWORD: [env.secret("grafanaAdminPassword")],
      GF_USERS_ALLOW_SIGN_UP: text(false),
      GF_AUTH_ANONYMOUS_ENABLED: text(config.grafana.anonymousViewer),
      GF_AUTH_ANONYMOUS_ORG_ROLE: text("Viewer"),
      GF_ANALYTICS_REPORTING_ENABLED: text(false),
      // Encrypts what Grafana stores in grafana.db (the data source password): never its built-in default.
      GF_SECURITY_SECRET_KEY: [env.secret("grafanaSecretKey")],
      // The session cookie travels only over HTTPS when every public URL is HTTPS.
      GF_SECURITY_COOKIE_SECURE: text(options.publicHttps),
      ...(tls ? { GF_SERVER_PROTOCOL: text("https"), GF_SERVER_CERT_FILE: text(tls.certPath), GF_SERVER_CERT_KEY: text(tls.keyPath) } : {}),
      INFLUX_URL: influxUrl,
      INFLUX_DB: text(config.influxdb.database),
      INFLUX_READER_USER: text(config.influxdb.readerUser),
      INFLUX_READER_PASSWORD: [env.secret("influxReaderPassword")],
    },
    ports: [{ name: "http", port: 3000, protocol: "http", public: true }],
    volumes: [
      {
        name: "data",
        path: "/var/lib/grafana",
        uid: 472,
        gid: 0,
        purpose: "data",
        persistence: "preferred",
        sizeGb: config.grafana.volumeGb,
      },
    ],
    health: {
      http: { port: "http", path: "/api/health" },
      // The Grafana image is Alpine (busybox wget); curl is the fallback for other variants.
      command: health,
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 6,
      startPeriodSeconds: 30,
    },
    resources: { memoryMb: config.grafana.memoryMb, cpus: config.grafana.cpus },
    // SQLite in the volume: one instance.
    tls,
    scaling: SINGLE,
    dependsOn: [{ service: "bootstrap", condition: "completed" }],
    stopGraceSeconds: 30,
  };
}
