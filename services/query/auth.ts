import { createHash, timingSafeEqual } from "node:crypto";
import { parseBasic } from "../ingest/import-auth";

/**
 * Every Query API request needs HTTP Basic with a query secret, in either of Mixpanel's forms: the
 * project-secret form (`<secret>:`, the secret as user and no password) or the service-account form
 * (`<user>:<secret>`, any user name, the secret as password). Compared in constant time.
 */

export type QueryAuth = { ok: true } | { ok: false; reason: string };

export function authoriseQuery(authorization: string | undefined, secrets: readonly string[]): QueryAuth {
  const basic = parseBasic(authorization);
  if (!basic) {
    return { ok: false, reason: authorization ? "expected HTTP Basic authentication" : "authentication required: HTTP Basic with the query secret (curl -u <secret>:)" };
  }
  const candidate = basic.password === "" ? basic.username : basic.password;
  let found = false;
  for (const secret of secrets) found = equalSecret(secret, candidate) || found;
  return found ? { ok: true } : { ok: false, reason: "invalid query secret" };
}

/** Hashing first makes the comparison take the same time whatever the lengths. */
function equalSecret(expected: string, candidate: string): boolean {
  return timingSafeEqual(createHash("sha256").update(expected).digest(), createHash("sha256").update(candidate).digest());
}
