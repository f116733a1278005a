import { describe, expect, it } from "vitest";
import { parseForm } from "../../services/ingest/form";
import { noGeolocation } from "../../services/ingest/geo";
import { prepareIngest, type IngestDependencies, type IngestRequest } from "../../services/ingest/prepare";

/** Which reply a request gets, before and after the queue write: the decisions of prepare.ts. */

const dependencies: IngestDependencies = {
  tokens: new Set(["T"]),
  credentials: { tokens: ["T"], apiSecrets: ["S"], serviceAccounts: [], allowTokenAuth: true },
  limits: { maxItems: 3, maxBodyBytes: 1e6, maxImportBodyBytes: 1e6, maxStringLength: 255, maxProperties: 255, maxDepth: 3, maxEventBytes: 1e6, trackMaxAgeMs: 0, history: {} },
  trustedProxyHops: 0,
  lookup: noGeolocation,
  geolocate: false,
};
const NOW = Date.UTC(2026, 10, 23);
const secret = `Basic ${Buffer.from("S:").toString("base64")}`;
const b64 = (value: unknown) => encodeURIComponent(Buffer.from(JSON.stringify(value)).toString("base64"));
const good = { event: "e", properties: { token: "T", time: NOW - 1000, $insert_id: "i1" } };
const bad = { event: "e", properties: { token: "T", time: 5 } };

function request(route: IngestRequest["route"], query: string, options: { body?: string; headers?: Record<string, string> } = {}): IngestRequest {
  return { route, query: parseForm(query), headers: options.headers ?? {}, body: Buffer.from(options.body ?? ""), remoteAddress: "127.0.0.1", received: NOW };
}

describe("prepareIngest", () => {
  it.each([
    ["track, plain", request("track", `data=${b64(good)}`), 200, "1", 1],
    ["track, verbose", request("track", `verbose=1&data=${b64(good)}`), 200, '{"error":null,"status":1}', 1],
    ["track, all refused", request("track", `verbose=1&data=${b64([bad])}`), 200, '{"error":"properties.time, before 1971-01-01","status":0}', 0],
    ["track, strict=1 means nothing on /track", request("track", `strict=1&data=${b64([good, bad])}`), 200, "1", 1],
    ["track, $ignore only: success with nothing to write", request("track", `data=${b64({ event: "e", properties: { token: "T", $ignore: true } })}`), 200, "1", 0],
    ["import with data=: legacy replies", request("import", `data=${b64([good, bad])}`, { headers: { authorization: secret } }), 200, "1", 1],
    ["import with a JSON body: strict by default", request("import", "", { body: JSON.stringify([good]), headers: { authorization: secret, "content-type": "application/json" } }), 200, '{"code":200,"num_records_imported":1,"status":"OK"}', 1],
    ["import with a JSON body and strict=0: legacy", request("import", "strict=0", { body: JSON.stringify([good]), headers: { authorization: secret, "content-type": "application/json" } }), 200, "1", 1],
    ["import with data= and strict=1: strict", request("import", `strict=1&data=${b64([good])}`, { headers: { authorization: secret } }), 200, '{"code":200,"num_records_imported":1,"status":"OK"}', 1],
    ["import, strict, bad JSON body", request("import", "", { body: "[{", headers: { authorization: secret, "content-type": "application/json" } }), 400, /^\{"code":400,"error":"body, not valid JSON/, 0],
    ["import, too many items: 413 in strict shape", request("import", "", { body: JSON.stringify([good, good, good, good]), headers: { authorization: secret, "content-type": "application/json" } }), 413, '{"code":413,"error":"request has 4 items, more than the limit of 3","status":"Request Entity Too Large","num_records_imported":0}', 0],
    ["engage, strict=1: failed_records", request("engage", `strict=1&data=${b64([{ $token: "T", $set: { a: 1 } }])}`), 400, /"failed_records":\[\{"index":0,"field":"\$distinct_id"/, 0],
    ["engage, verbose in the form body", request("engage", "", { body: `data=${b64({ $token: "T", $distinct_id: "u", $set: { a: 1 } })}&verbose=1` }), 200, '{"error":null,"status":1}', 1],
    ["groups, JSONP", request("groups", `callback=cb&data=${b64({ $token: "T", $group_key: "k", $group_id: "g", $set: { a: 1 } })}`), 200, "cb(1)", 1],
  ])("%s", (_name, input, status, body, accepted) => {
    const prepared = prepareIngest(input, dependencies);
    expect(prepared.reply.status).toBe(status);
    if (typeof body === "string") expect(prepared.reply.body).toBe(body);
    else expect(String(prepared.reply.body)).toMatch(body);
    expect(prepared.accepted).toBe(accepted);
    expect(prepared.entry?.items.length ?? 0).toBe(accepted);
  });

  it("gives the queue failure reply in the request's format, with Retry-After", () => {
    const legacy = prepareIngest(request("track", `verbose=1&data=${b64(good)}`), dependencies).failure(503, "a temporary failure occurred: queue unavailable", 1);
    expect(legacy).toEqual({ status: 503, headers: { "Content-Type": "application/json", "Retry-After": "1" }, body: '{"error":"a temporary failure occurred: queue unavailable","status":0}' });
    const strict = prepareIngest(request("import", "", { body: JSON.stringify([good]), headers: { authorization: secret, "content-type": "application/json" } }), dependencies).failure(503, "busy", 5);
    expect(strict.status).toBe(503);
    expect(JSON.parse(String(strict.body))).toEqual({ code: 503, error: "busy", status: "Service Unavailable", num_records_imported: 0 });
    expect(strict.headers["Retry-After"]).toBe("5");
  });

  it("counts refused items by reason", () => {
    const prepared = prepareIngest(request("track", `data=${b64([good, bad, bad, { event: "e", properties: {} }])}`), { ...dependencies, limits: { ...dependencies.limits, maxItems: 10 } });
    expect([...prepared.rejected]).toEqual([["bad_time", 2], ["missing_token", 1]]);
  });

  it("checks /import credentials before anything else", () => {
    const prepared = prepareIngest(request("import", "data=garbage"), dependencies);
    expect(prepared.reply.status).toBe(401);
    expect(prepared.entry).toBeUndefined();
    expect([...prepared.rejected]).toEqual([["missing_credentials", 1]]);
  });
});
