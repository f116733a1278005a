import type { Endpoint } from "./endpoints/context";
import { engage } from "./endpoints/engage";
import { eventNames, eventPropertiesTop, eventPropertyValues } from "./endpoints/event-names";
import { exportEvents } from "./endpoints/export";
import { funnelList, funnels } from "./endpoints/funnels";
import { retention } from "./endpoints/retention";
import { numericSegmentation, segmentation } from "./endpoints/segmentation";

/**
 * The Query API's paths. Each answers under `/api/query/…` (Mixpanel's documented prefix) and
 * `/api/2.0/…` (what existing scripts and client libraries call), with or without a trailing slash,
 * so a client changes only the host. `heavy`: reads events or profiles (counted against
 * `QUERY_MAX_CONCURRENT` and `QUERY_TIMEOUT_MS`).
 */
export const endpoints: Record<string, { run: Endpoint; heavy: boolean }> = {
  segmentation: { run: segmentation, heavy: true },
  "segmentation/sum": { run: numericSegmentation("sum"), heavy: true },
  "segmentation/average": { run: numericSegmentation("average"), heavy: true },
  funnels: { run: funnels, heavy: true },
  "funnels/list": { run: funnelList, heavy: false },
  retention: { run: retention, heavy: true },
  "events/names": { run: eventNames, heavy: false },
  "events/properties/top": { run: eventPropertiesTop, heavy: false },
  "events/properties/values": { run: eventPropertyValues, heavy: false },
  export: { run: exportEvents, heavy: true },
  engage: { run: engage, heavy: true },
};

export const API_PREFIXES = ["/api/query/", "/api/2.0/"] as const;

/** The endpoint name of a path, or undefined. */
export function endpointOf(path: string): string | undefined {
  const prefix = API_PREFIXES.find((candidate) => path.startsWith(candidate));
  if (!prefix) return undefined;
  const name = path.slice(prefix.length).replace(/\/+$/, "");
  return Object.hasOwn(endpoints, name) ? name : undefined;
}
