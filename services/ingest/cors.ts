import type { IncomingHttpHeaders } from "node:http";

/**
 * CORS for mixpanel-browser, which sends `withCredentials`: the request's origin is echoed (never
 * `*`, which browsers refuse with credentials) on every response, and preflights are answered with
 * the methods and headers asked for.
 */
export function corsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const origin = headers.origin;
  if (!origin) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  };
}

export function preflightHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const requested = headers["access-control-request-headers"];
  return {
    ...corsHeaders(headers),
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    ...(requested ? { "Access-Control-Allow-Headers": requested } : {}),
    "Access-Control-Max-Age": "86400",
  };
}
