/** The Mixpanel ingestion endpoints this service implements. */
export type IngestRoute = "track" | "engage" | "groups" | "import";
export type Route = IngestRoute | "healthz" | "readyz" | "decide" | "not_found";

const ROUTES: Record<string, Route> = {
  "/track": "track",
  "/engage": "engage",
  "/groups": "groups",
  "/import": "import",
  "/healthz": "healthz",
  "/readyz": "readyz",
  // No "/metrics": load balancers forward every path of this port; metrics are on the private METRICS_PORT.
  "/decide": "decide",
};

export function isIngestRoute(route: Route): route is IngestRoute {
  return route === "track" || route === "engage" || route === "groups" || route === "import";
}

/**
 * `/track`, `/track/`, `//track/` (a browser `api_host` ending in `/`) and the same behind the
 * configured prefix (`/mp/track`) all name one route. Without the prefix the routes work too, so
 * that a proxy which strips it and one which does not both reach us.
 */
export function matchRoute(pathname: string, prefix: string): Route {
  let path = pathname.includes("//") ? pathname.replace(/\/{2,}/g, "/") : pathname;
  if (prefix && (path === prefix || path.startsWith(`${prefix}/`))) path = path.slice(prefix.length);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return ROUTES[path] ?? "not_found";
}
