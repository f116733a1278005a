import { describe, expect, it } from "vitest";
import { authoriseImport, parseBasic, type ImportCredentials } from "../../services/ingest/import-auth";

const credentials: ImportCredentials = {
  tokens: ["T"],
  apiSecrets: ["SEKRET", "OLDSECRET"],
  serviceAccounts: [{ username: "svc.user", secret: "svc-secret" }],
  allowTokenAuth: true,
};

function basic(user: string, password = ""): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

describe("authoriseImport", () => {
  it.each([
    ["the API secret as user, empty password (mixpanel-node)", basic("SEKRET"), {}, "secret"],
    ["a second configured secret (rotation)", basic("OLDSECRET"), {}, "secret"],
    ["a service account with project_id", basic("svc.user", "svc-secret"), { project_id: "1" }, "service_account"],
    ["the project token as user without project_id", basic("T"), {}, "token"],
    ["legacy api_key carrying the secret", undefined, { api_key: "SEKRET" }, "api_key"],
    ["lower-case scheme", `basic ${Buffer.from("SEKRET:").toString("base64")}`, {}, "secret"],
  ])("accepts %s", (_name, header, query, via) => {
    expect(authoriseImport(header, query, credentials)).toEqual({ ok: true, via });
  });

  it.each([
    ["nothing", undefined, {}, "missing_credentials"],
    ["a wrong secret", basic("WRONG"), {}, "invalid_credentials"],
    ["the secret with a password", basic("SEKRET", "x"), {}, "invalid_credentials"],
    ["a service account with the wrong secret", basic("svc.user", "nope"), { project_id: "1" }, "invalid_credentials"],
    ["the token with a project_id", basic("T"), { project_id: "1" }, "invalid_credentials"],
    ["a wrong api_key", undefined, { api_key: "WRONG" }, "invalid_credentials"],
    ["a Bearer header", "Bearer abc", {}, "invalid_credentials"],
  ])("refuses %s", (_name, header, query, reason) => {
    expect(authoriseImport(header, query, credentials)).toEqual({ ok: false, reason });
  });

  it("refuses the token when token auth is turned off", () => {
    expect(authoriseImport(basic("T"), {}, { ...credentials, allowTokenAuth: false })).toEqual({ ok: false, reason: "invalid_credentials" });
  });
});

describe("parseBasic", () => {
  it.each([
    [basic("a", "b:c"), { username: "a", password: "b:c" }],
    [`Basic ${Buffer.from("only").toString("base64")}`, { username: "only", password: "" }],
    ["Digest x", undefined],
    [undefined, undefined],
  ])("%j", (header, expected) => {
    expect(parseBasic(header)).toEqual(expected);
  });
});
