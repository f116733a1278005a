import type { ServerResponse } from "node:http";
import type { InfluxConnection } from "../../core/influx";
import type { Logger } from "../../core/log";
import type { EventCatalog } from "../event-columns";
import { EventScan, type EventScanRequest } from "../event-scan";
import { IdentityResolver, redisIdentityMap, type RedisCommands } from "../identity";
import type { FunnelDefinition } from "../funnel-definition";
import type { QueryLimits } from "../limits";
import type { Params } from "../params";
import { ProfileReader } from "../profiles";
import type { TimeZone } from "../time-zone";

/** What every endpoint is given: the stores, the settings it needs, and the request's own signal. */
export interface QueryContext {
  influx: InfluxConnection;
  database: string;
  redis: RedisCommands;
  zone: TimeZone;
  funnels: readonly FunnelDefinition[];
  limits: QueryLimits;
  chunkSize: number;
  identityBatch: number;
  /** The `events` measurement's tags and fields (cached briefly by the service). */
  catalog(): Promise<EventCatalog>;
  now(): number;
  /** Aborted when the request's time limit passes or its client goes away. */
  signal: AbortSignal;
  log: Logger;
  /** Counts identity lookups and rows read for the metrics; `query` is the InfluxQL that ran. */
  observe(scan: { rows: number; lookups: number; query: string }): void;
}

export type EndpointReply =
  | { status: number; json: unknown }
  /** Streamed answers (export): the endpoint writes the response itself. */
  | { status: number; stream: (response: ServerResponse, acceptsGzip: boolean) => Promise<void> };

export type Endpoint = (params: Params, context: QueryContext) => Promise<EndpointReply>;

/** An event scan with this request's identity resolver and profile reader. */
export async function newScan(context: QueryContext, request: EventScanRequest, options: { allColumns?: boolean } = {}) {
  const identity = new IdentityResolver(redisIdentityMap(context.redis, context.identityBatch));
  const scan = new EventScan(request, {
    influx: context.influx,
    database: context.database,
    chunkSize: context.chunkSize,
    catalog: await context.catalog(),
    identity,
    profiles: new ProfileReader(context.redis),
    zone: context.zone,
    maxRows: context.limits.maxRows,
    maxPeople: context.limits.maxPeople,
    signal: context.signal,
    allColumns: options.allColumns,
  });
  return {
    scan,
    async run(onRow: Parameters<EventScan["run"]>[0], afterChunk?: () => Promise<void>) {
      const rows = await scan.run(onRow, afterChunk);
      context.observe({ rows, lookups: identity.lookups, query: scan.query });
      return rows;
    },
  };
}

export const computedAt = (now: number) => new Date(now).toISOString().replace("Z", "+00:00");
