import type { ServiceBuilder } from "../types";
import { backup } from "./backup";
import { bootstrap } from "./bootstrap";
import { grafana } from "./grafana";
import { influxdb } from "./influxdb";
import { ingest } from "./ingest";
import { queue } from "./queue";
import { worker } from "./worker";

/**
 * Every service a mixstack stack can have, one builder each, in the order the topology lists them.
 * Adding a service is a builder file here and one entry below (its key is its `ServiceName`); its
 * env is typed by the schema its settings reader uses (`EnvFor`), and every platform deploys it by
 * its kind with no change of its own (docs/architecture.md).
 */
export const catalogue = { influxdb, queue, bootstrap, ingest, worker, grafana, backup } satisfies Record<string, ServiceBuilder>;

export type Catalogue = Readonly<Record<string, ServiceBuilder>>;
