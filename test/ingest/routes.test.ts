import { describe, expect, it } from "vitest";
import { matchRoute } from "../../services/ingest/routes";

describe("matchRoute", () => {
  it.each([
    ["/track", "", "track"],
    ["/track/", "", "track"],
    ["//track/", "", "track"],
    ["/engage/", "", "engage"],
    ["/groups", "", "groups"],
    ["/import", "", "import"],
    ["/healthz", "", "healthz"],
    ["/readyz", "", "readyz"],
    // Metrics are on the private metrics port, never on the public one.
    ["/metrics", "", "not_found"],
    ["/mp/metrics", "/mp", "not_found"],
    ["/mp/track/", "/mp", "track"],
    ["/mp//engage", "/mp", "engage"],
    ["/_mp/api/import", "/_mp/api", "import"],
    ["/track", "/mp", "track"],
    ["/mp", "/mp", "not_found"],
    ["/trackx", "", "not_found"],
    ["/", "", "not_found"],
    ["/__proto__", "", "not_found"],
    ["/flags/", "", "not_found"],
    ["/decide", "", "decide"],
  ])("%s with prefix %j is %s", (path, prefix, route) => {
    expect(matchRoute(path, prefix)).toBe(route);
  });
});
