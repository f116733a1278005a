import type { BuildName, BuildSpec, ImageSpec } from "./types";

/** Third-party images, pinned to exact tags (never `latest`, which is InfluxDB 2.x). */
export const pinnedImages = {
  influxdb: "influxdb:1.12.4",
  queue: "valkey/valkey:8.1.8",
} as const;

export const builds: Record<BuildName, BuildSpec> = {
  services: { context: ".", dockerfile: "Dockerfile" },
  grafana: { context: "grafana", dockerfile: "Dockerfile" },
};

/** The image built from the repository's root Dockerfile: `mixstack <command>`. */
export const SERVICES_IMAGE: ImageSpec = { kind: "build", build: "services" };
