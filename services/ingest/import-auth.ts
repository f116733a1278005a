import { createHash, timingSafeEqual } from "node:crypto";
import type { ServiceAccount } from "./settings";

/**
 * Who may call `/import` (spec §1.1, §5 item 19): HTTP Basic with the project API secret as user
 * and an empty password (what mixpanel-node sends), a service account `user:secret`, the project
 * token as user with an empty password and no `project_id` (unless turned off), or the legacy
 * `?api_key=` carrying the API secret. Comparisons take constant time.
 */

export interface ImportCredentials {
  tokens: readonly string[];
  apiSecrets: readonly string[];
  serviceAccounts: readonly ServiceAccount[];
  allowTokenAuth: boolean;
}

export type ImportAuth =
  | { ok: true; via: "secret" | "service_account" | "token" | "api_key" }
  | { ok: false; reason: "missing_credentials" | "invalid_credentials" };

export function authoriseImport(
  authorization: string | undefined,
  query: Record<string, string>,
  credentials: ImportCredentials,
): ImportAuth {
  const basic = parseBasic(authorization);
  if (basic) {
    const { username, password } = basic;
    if (password === "" && includesSecret(credentials.apiSecrets, username)) return { ok: true, via: "secret" };
    if (password !== "" && credentials.serviceAccounts.some((account) => equalSecret(account.username, username) && equalSecret(account.secret, password))) {
      return { ok: true, via: "service_account" };
    }
    if (credentials.allowTokenAuth && password === "" && query.project_id === undefined && includesSecret(credentials.tokens, username)) {
      return { ok: true, via: "token" };
    }
    return { ok: false, reason: "invalid_credentials" };
  }
  if (query.api_key !== undefined) {
    return includesSecret(credentials.apiSecrets, query.api_key) ? { ok: true, via: "api_key" } : { ok: false, reason: "invalid_credentials" };
  }
  return { ok: false, reason: authorization ? "invalid_credentials" : "missing_credentials" };
}

export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return { username: decoded, password: "" };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function includesSecret(list: readonly string[], candidate: string): boolean {
  let found = false;
  for (const secret of list) found = equalSecret(secret, candidate) || found;
  return found;
}

/** Hashing first makes the comparison constant-time regardless of the lengths. */
function equalSecret(expected: string, candidate: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(candidate).digest();
  return timingSafeEqual(a, b);
}
