import { pinnedImages } from "../images";
import { text } from "../env";
import { SINGLE, type CatalogueContext, type ServiceDraft } from "../types";

/** InfluxDB 1.x: the events database. Absent with `influxdb.external` (an InfluxDB run elsewhere). */
export function influxdb({ config, options }: CatalogueContext): ServiceDraft | undefined {
  if (config.influxdb.external) return undefined;
  return {
    name: "influxdb",
    kind: "stateful",
    description: "InfluxDB 1.x: the events database",
    image: { kind: "pinned", ref: pinnedImages.influxdb },
    env: {
      INFLUXDB_HTTP_AUTH_ENABLED: text(true),
      INFLUXDB_DATA_INDEX_VERSION: text("tsi1"),
      INFLUXDB_REPORTING_DISABLED: text(true),
      // The backup RPC port has no authentication: private network only, never public; loopback
      // only where the platform cannot filter by port (Docker: the backup job shares the namespace).
      INFLUXDB_BIND_ADDRESS: text(options.loopbackRpc ? "127.0.0.1:8088" : "0.0.0.0:8088"),
      INFLUXDB_HTTP_SUPPRESS_WRITE_LOG: text(true),
      INFLUXDB_DATA_QUERY_LOG_ENABLED: text(false),
    },
    ports: [
      { name: "http", port: 8086, protocol: "http", public: false },
      { name: "rpc", port: 8088, protocol: "tcp", public: false, ...(options.loopbackRpc ? { loopback: true } : {}) },
    ],
    volumes: [
      {
        name: "data",
        path: "/var/lib/influxdb",
        uid: 1500,
        gid: 1500,
        purpose: "data",
        persistence: "required",
        sizeGb: config.influxdb.volumeGb,
      },
    ],
    health: {
      http: { port: "http", path: "/ping" },
      command: "curl -sf -o /dev/null http://127.0.0.1:8086/ping",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 6,
      startPeriodSeconds: 30,
    },
    resources: { memoryMb: config.influxdb.memoryMb, cpus: config.influxdb.cpus },
    scaling: SINGLE,
    dependsOn: [],
    stopGraceSeconds: 60,
  };
}
