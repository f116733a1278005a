/**
 * The platform-neutral description of a mixstack deployment: which services exist, what they run,
 * how they are wired. Plain data built by plain functions (no Pulumi resources), so tests assert on
 * it without mocks and each platform folder (`components/docker`, `components/aws`, ...) only
 * translates it. docs/topology.md explains every field to platform implementers.
 *
 * - types.ts: the data; catalogue/: one builder per service; build.ts: `buildTopology`;
 * - env.ts: env templates and their references; health.ts: health-check commands;
 * - graph.ts: queries (service, port, start order, a job's in-stack form);
 * - problems.ts: what a platform could not translate; parity.ts: the summary every platform must equal.
 */
export * from "./types";
export * from "./images";
export * from "./env";
export * from "./health";
export * from "./graph";
export * from "./problems";
export * from "./parity";
export { buildTopology } from "./build";
export { catalogue, type Catalogue } from "./catalogue";
export { INGEST_TLS_FILES } from "./catalogue/ingest";
export { GRAFANA_TLS_FILES } from "./catalogue/grafana";
