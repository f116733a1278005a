import type { IncomingHttpHeaders } from "node:http";
import type { EventItem, GroupUpdate, ProfileUpdate, QueueEntry } from "../core/queue";
import { clientAddress } from "./client-ip";
import { IGNORED, normaliseEvent, type EventContext } from "./event";
import type { FormFields } from "./form";
import type { GeoLocation, GeoLookup } from "./geo";
import { authoriseImport, type ImportCredentials } from "./import-auth";
import { extractPayload, type Payload } from "./payload";
import { normaliseGroupUpdate, normaliseProfileUpdate, type ProfileContext } from "./profile";
import { Rejection } from "./rejection";
import {
  failedRecord,
  legacyReply,
  replyFormat,
  strictErrorReply,
  strictImportReply,
  type FailedRecord,
  type Reply,
  type ReplyFormat,
} from "./replies";
import type { IngestRoute } from "./routes";
import type { Limits } from "./settings";

/**
 * One ingest request from its decoded parts to (a) the stream entry to write and (b) the reply to
 * give once the write succeeded or failed. No I/O here: the server reads the body, writes the entry
 * and sends the reply; this decides everything in between.
 */

export interface IngestRequest {
  route: IngestRoute;
  query: FormFields;
  headers: IncomingHttpHeaders;
  /** The body after decompression (empty for GET). */
  body: Buffer;
  remoteAddress: string | undefined;
  received: number;
}

export interface IngestDependencies {
  tokens: ReadonlySet<string>;
  credentials: ImportCredentials;
  limits: Limits;
  trustedProxyHops: number;
  lookup: GeoLookup;
  /** False when geolocation is off: `ip=1` then does nothing. */
  geolocate: boolean;
  /** Store `$ip` on events (`MIXSTACK_KEEP_IP`); dropped otherwise. */
  keepIp?: boolean;
}

export interface Prepared {
  /** What to XADD; absent when nothing was accepted (all refused or `$ignore`d). */
  entry?: QueueEntry;
  accepted: number;
  ignored: number;
  /** Items refused, by reason slug (for metrics). */
  rejected: Map<string, number>;
  /** The reply once `entry` is written (or right away when there is no entry). */
  reply: Reply;
  /** The reply when the entry is not written after all (queue down, slow or full; a limit), with `Retry-After` when given. */
  failure: (status: number, message: string, retryAfterSeconds?: number) => Reply;
}

export function prepareIngest(request: IngestRequest, dependencies: IngestDependencies): Prepared {
  const { route } = request;
  const contentType = String(request.headers["content-type"] ?? "").toLowerCase();
  const authorization = header(request.headers.authorization);
  // Credentials in the header or the query are checked before the body is parsed; only a form body
  // can still carry them (`api_key`), and that one is parsed first, under the small body limit.
  if (route === "import" && (authorization !== undefined || request.query.values.api_key !== undefined)) {
    const early = authoriseImport(authorization, request.query.values, dependencies.credentials);
    if (!early.ok) {
      const strict = isStrict(route, request.query.values, new Rejection("unread", "", ""), request.headers);
      return refusedRequest(strict ? strictErrorReply(401, "Invalid credentials") : legacyReply(replyFormat(request.query.values), 401, "Invalid credentials"), early.reason);
    }
  }
  const payload = extractPayload(
    { query: request.query.values, malformedQuery: request.query.malformed, contentType, body: request.body },
    dependencies.limits.maxItems,
    // `/import` is authenticated by credentials, and its events may leave the token out.
    route === "import" ? undefined : dependencies.credentials.tokens,
  );
  const params = payload instanceof Rejection ? request.query.values : withFormFields(request.query.values, payload.formFields);
  const format = replyFormat(params);
  const strict = isStrict(route, params, payload, request.headers);

  let authenticated = false;
  if (route === "import") {
    const auth = authoriseImport(authorization, params, dependencies.credentials);
    if (!auth.ok) return refusedRequest(strict ? strictErrorReply(401, "Invalid credentials") : legacyReply(format, 401, "Invalid credentials"), auth.reason);
    authenticated = true;
  }

  if (payload instanceof Rejection) return refusedRequest(problemReply(payload, format, strict), payload.reason);

  const requestLocation = locateOnce(request, params, dependencies);
  const accepted: (EventItem | ProfileUpdate | GroupUpdate)[] = [];
  const rejected = new Map<string, number>();
  const failed: FailedRecord[] = [];
  let ignored = 0;
  let firstError: string | undefined;

  const now = request.received;
  const eventContext: EventContext | undefined =
    route === "track" || route === "import"
      ? { route, tokens: dependencies.tokens, authenticated, strict, now, limits: dependencies.limits, requestLocation, lookup: dependencies.lookup, keepIp: dependencies.keepIp }
      : undefined;
  const profileContext: ProfileContext = { tokens: dependencies.tokens, now, limits: dependencies.limits, requestLocation, lookup: dependencies.lookup };

  const items = payload.items;
  for (let index = 0; index < items.length; index++) {
    const raw = items[index];
    const badLine = payload.invalidLines.get(index);
    const outcome = badLine
      ? new Rejection("bad_json", "", badLine)
      : eventContext
        ? normaliseEvent(raw, eventContext)
        : route === "engage"
          ? normaliseProfileUpdate(raw, profileContext)
          : normaliseGroupUpdate(raw, profileContext);
    if (outcome === IGNORED) ignored++;
    else if (outcome instanceof Rejection) {
      rejected.set(outcome.reason, (rejected.get(outcome.reason) ?? 0) + 1);
      firstError ??= items.length > 1 ? `item ${index}: ${outcome.message}` : outcome.message;
      if (strict) failed.push(failedRecord(index, outcome, raw));
    } else accepted.push(outcome);
  }

  const entry = accepted.length > 0 ? ({ kind: route, items: accepted, received: request.received } as QueueEntry) : undefined;
  const succeeded = accepted.length + ignored;
  const reply = strict
    ? strictImportReply(succeeded, failed)
    : legacyReply(format, 200, succeeded > 0 ? null : (firstError ?? "data, missing or empty"));
  const failure = (status: number, message: string, retryAfterSeconds?: number): Reply => {
    const base = strict ? strictErrorReply(status, message) : legacyReply(format, status, message);
    return retryAfterSeconds === undefined ? base : { ...base, headers: { ...base.headers, "Retry-After": String(retryAfterSeconds) } };
  };
  return { entry, accepted: accepted.length, ignored, rejected, reply, failure };
}

/**
 * `/import` answers in strict JSON when asked (`strict=1`) or when the payload is a JSON/NDJSON
 * body and `strict=0` was not given (Mixpanel's default for that style); the legacy `data=` style
 * the Node SDK uses gets `1`/`0`. `/engage` and `/groups` use the strict format only on `strict=1`.
 */
function isStrict(route: IngestRoute, params: Record<string, string>, payload: Payload | Rejection, headers: IncomingHttpHeaders): boolean {
  if (params.strict === "1" || params.strict === "true") return route !== "track";
  if (params.strict === "0" || params.strict === "false" || route !== "import") return false;
  if (!(payload instanceof Rejection)) return payload.source === "body";
  return String(headers["content-type"] ?? "").includes("json");
}

/** The reply to a request whose body could not be read (too large, bad compression). */
export function bodyProblemReply(route: IngestRoute, query: Record<string, string>, headers: IncomingHttpHeaders, problem: Rejection): Reply {
  return problemReply(problem, replyFormat(query), isStrict(route, query, problem, headers));
}

function problemReply(problem: Rejection, format: ReplyFormat, strict: boolean): Reply {
  const status = problem.status ?? (strict ? 400 : 200);
  return strict ? strictErrorReply(status, problem.message) : legacyReply(format, status, problem.message);
}

function refusedRequest(reply: Reply, reason: string): Prepared {
  return {
    accepted: 0,
    ignored: 0,
    rejected: new Map([[reason, 1]]),
    reply,
    failure: () => reply,
  };
}

function withFormFields(query: Record<string, string>, form: Record<string, string>): Record<string, string> {
  let merged: Record<string, string> | undefined;
  for (const name in form) {
    if (name === "data" || name in query) continue;
    merged ??= Object.assign(Object.create(null) as Record<string, string>, query);
    merged[name] = form[name]!;
  }
  return merged ?? query;
}

/**
 * `ip=1` geolocates from the request's address. `/engage` and `/groups` default to 1 (Mixpanel's
 * documented default); `/track` and `/import` default to 0 (both SDKs always send the parameter).
 */
function locateOnce(request: IngestRequest, params: Record<string, string>, dependencies: IngestDependencies): () => GeoLocation | undefined {
  const flag = params.ip;
  const wanted = flag === undefined ? request.route === "engage" || request.route === "groups" : flag === "1" || flag === "true";
  if (!wanted || !dependencies.geolocate) return () => undefined;
  let done = false;
  let location: GeoLocation | undefined;
  return () => {
    if (!done) {
      done = true;
      const address = clientAddress(request.remoteAddress, request.headers["x-forwarded-for"], dependencies.trustedProxyHops);
      location = address ? dependencies.lookup(address) : undefined;
    }
    return location;
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
