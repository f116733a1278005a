import type { EnvFor } from "../../../services/core/settings";
import type { bootstrapEnvironment } from "../../../services/worker/bootstrap";
import { env, text } from "../env";
import { SERVICES_IMAGE } from "../images";
import { SINGLE, type CatalogueContext, type EnvValue, type ServiceDraft } from "../types";

/** `mixstack bootstrap`: the database, retention policy, users and grants, before anything uses them. */
export function bootstrap({ config, wiring }: CatalogueContext): ServiceDraft {
  const { influxUrl, logLevel } = wiring;
  return {
    name: "bootstrap",
    kind: "init",
    description: "creates the database, retention policy, users and grants (idempotent)",
    image: SERVICES_IMAGE,
    command: ["bootstrap"],
    env: {
      INFLUX_URL: influxUrl,
      INFLUX_DB: text(config.influxdb.database),
      INFLUX_USER: text(config.influxdb.adminUser),
      INFLUX_PASSWORD: [env.secret("influxAdminPassword")],
      INFLUX_WRITER_USER: text(config.influxdb.writerUser),
      INFLUX_WRITER_PASSWORD: [env.secret("influxWriterPassword")],
      INFLUX_READER_USER: text(config.influxdb.readerUser),
      INFLUX_READER_PASSWORD: [env.secret("influxReaderPassword")],
      // Unset: bootstrap gives a new database its finite default and leaves an existing one as it is.
      ...(config.influxdb.retention !== undefined ? { INFLUX_RETENTION: text(config.influxdb.retention) } : {}),
      LOG_LEVEL: logLevel,
    } satisfies EnvFor<typeof bootstrapEnvironment, EnvValue>,
    ports: [],
    volumes: [],
    resources: { memoryMb: 256, cpus: 0.5 },
    scaling: SINGLE,
    dependsOn: [{ service: "influxdb", condition: "healthy" }],
    stopGraceSeconds: 10,
  };
}
