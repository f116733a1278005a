import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { listenOn } from "../core/listen";
import type { Logger } from "../core/log";
import { readBody } from "./body";
import { ClientBudget, estimatedCostMs, REQUEST_COST_MS } from "./client-budget";
import { clientAddress } from "./client-ip";
import { unknownWeeks } from "./history-weeks";
import { authoriseImport } from "./import-auth";
import { Rejection } from "./rejection";
import { corsHeaders, preflightHeaders } from "./cors";
import { parseForm } from "./form";
import type { IngestMetrics } from "./metrics";
import { bodyProblemReply, prepareIngest, type IngestDependencies } from "./prepare";
import { QueueFailure, type QueueWriter } from "./queue-writer";
import { jsonReply, textReply, type Reply } from "./replies";
import { isIngestRoute, matchRoute, type IngestRoute } from "./routes";
import type { IngestSettings } from "./settings";

/**
 * The HTTP(S) edge: routing, body reading, the queue write and the reply, plus health, readiness
 * and a graceful drain. What to accept and what to answer is decided in `prepare.ts`. `/metrics` is
 * not here: it is on the private metrics port (`service.ts`), never on this public one.
 */

const EMPTY = Buffer.alloc(0);

/** Seconds a client is told to wait (Retry-After) when the queue is down or full. */
const RETRY_AFTER_UNAVAILABLE = 1;
const RETRY_AFTER_BACKPRESSURE = 5;
/** A refused request with a body up to this size is let through unread, keeping its connection. */
const UNREAD_BODY_BYTES = 64 * 1024;

export interface IngestServerOptions {
  settings: IngestSettings;
  dependencies: IngestDependencies;
  queue: QueueWriter;
  metrics: IngestMetrics;
  log: Logger;
}

export class IngestServer {
  readonly server: Server;
  private inFlight = 0;
  private connections = 0;
  private readonly budget?: ClientBudget;
  /** Weeks of history known to hold data (see `history-weeks.ts`); small: one per week since the floor. */
  private readonly knownWeeks = new Set<number>();
  private draining = false;
  private idle?: () => void;

  constructor(private readonly options: IngestServerOptions) {
    const { settings } = options;
    const serverOptions = { maxHeaderSize: settings.MIXSTACK_MAX_HEADER_BYTES, keepAliveTimeout: settings.MIXSTACK_KEEP_ALIVE_TIMEOUT_MS };
    const handler = (request: IncomingMessage, response: ServerResponse) => this.handle(request, response);
    this.server = settings.tls
      ? createHttpsServer({ ...serverOptions, cert: settings.tls.cert, key: settings.tls.key }, handler)
      : createHttpServer(serverOptions, handler);
    this.server.keepAliveTimeout = settings.MIXSTACK_KEEP_ALIVE_TIMEOUT_MS;
    this.server.requestTimeout = settings.MIXSTACK_REQUEST_TIMEOUT_MS;
    this.server.headersTimeout = Math.min(60_000, settings.MIXSTACK_REQUEST_TIMEOUT_MS);
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => this.clientError(error, socket));
    // Above the cap requests are answered 429 (and their connection closed); far above it, Node
    // drops new connections unanswered.
    this.server.maxConnections = settings.MIXSTACK_MAX_CONNECTIONS * 2;
    this.server.on(settings.tls ? "secureConnection" : "connection", (socket: Socket) => {
      this.connections++;
      socket.once("close", () => this.connections--);
    });
    if (settings.MIXSTACK_CLIENT_MS_PER_SECOND > 0) this.budget = new ClientBudget(settings.MIXSTACK_CLIENT_MS_PER_SECOND, settings.MIXSTACK_CLIENT_BURST_MS);
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenOn(this.server, port, host);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops accepting connections, lets in-flight requests finish (their replies carry
   * `Connection: close`) and resolves when none is left or `graceMs` passed; then closes what is left.
   * Returns whether every in-flight request finished.
   */
  async drain(graceMs: number): Promise<boolean> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const finished = await new Promise<boolean>((resolve) => {
      if (this.inFlight === 0) return resolve(true);
      this.idle = () => resolve(true);
      timer = setTimeout(() => resolve(false), graceMs);
    });
    clearTimeout(timer);
    this.idle = undefined;
    this.server.closeAllConnections();
    await closed;
    return finished;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.inFlight++;
    response.once("close", () => {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    });
    this.route(request, response).catch((error: Error) => {
      this.options.log.error({ err: error, url: urlForLog(request.url) }, "request failed unexpectedly");
      if (!response.headersSent) this.send(request, response, textReply(500, "internal error"), "error");
      else response.destroy();
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? "/";
    const mark = url.indexOf("?");
    const route = matchRoute(mark === -1 ? url : url.slice(0, mark), this.options.settings.MIXSTACK_PATH_PREFIX);
    if (request.method === "OPTIONS") {
      response.writeHead(204, { ...preflightHeaders(request.headers), "Content-Length": "0", ...this.connectionHeader() });
      response.end();
      this.options.metrics.request(isIngestRoute(route) ? route : "other", 204, 0, new Map());
      return;
    }
    if (isIngestRoute(route)) return this.ingest(route, mark === -1 ? "" : url.slice(mark + 1), request, response);
    switch (route) {
      case "healthz":
        return this.send(request, response, textReply(200, "ok"), route);
      case "readyz": {
        const ready = this.options.queue.ready && !this.draining;
        const reply = jsonReply(ready ? 200 : 503, { ready, queue: this.options.queue.ready ? "up" : "down", draining: this.draining });
        return this.send(request, response, reply, route);
      }
      case "decide":
        // mixpanel-browser before 2.45 asks for in-app notifications here; there are none.
        return this.send(request, response, jsonReply(200, { notifications: [], config: { enable_collect_everything: false } }), route);
      default:
        return this.send(request, response, jsonReply(404, { error: "not found", status: 0 }), "not_found");
    }
  }

  private async ingest(route: IngestRoute, queryString: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { settings, dependencies, queue, metrics } = this.options;
    const received = Date.now();
    // HEAD is refused too: a request that writes events must not hide behind a method without a body.
    if (request.method !== "GET" && request.method !== "POST") {
      const reply = jsonReply(405, { error: `method ${request.method} not allowed`, status: 0 });
      return this.send(request, response, { ...reply, headers: { ...reply.headers, Allow: "GET, POST, OPTIONS" } }, route, 0, new Map([["bad_method", 1]]));
    }
    const query = parseForm(queryString);
    // Cheap checks first, before any byte of the body is read: connections, the client's budget.
    const refuse = (problem: Rejection, retryAfterSeconds: number, close = false) => {
      const reply = bodyProblemReply(route, query.values, request.headers, problem);
      // The body is not needed: a small one goes by unread (the connection stays open), a large or
      // chunked one is not received at all (the connection is closed after the answer).
      const large = request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > UNREAD_BODY_BYTES;
      if (!large) request.resume();
      const headers = { ...reply.headers, "Retry-After": String(retryAfterSeconds) };
      return this.send(request, response, { ...reply, headers }, route, 0, new Map([[problem.reason, 1]]), close || large);
    };
    if (this.connections > settings.MIXSTACK_MAX_CONNECTIONS) {
      return refuse(new Rejection("too_many_connections", "", `more than ${settings.MIXSTACK_MAX_CONNECTIONS} open connections; retry later`, { status: 429 }), 1, true);
    }
    // `/import` with an API secret or a service account (not the public token) is trusted: a larger
    // body limit, and no per-address budget (a backfill runs from one machine).
    const trusted = route === "import" && isSecretImport(request, query.values, dependencies);
    const client = this.budget && !trusted ? (clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], dependencies.trustedProxyHops) ?? "unknown") : undefined;
    const declared = Number(request.headers["content-length"] ?? 0) || 0;
    const maxBytes = trusted ? settings.limits.maxImportBodyBytes : settings.limits.maxBodyBytes;
    // A declared size over the limit is answered 413 by `readBody` at once: no budget spent on it.
    if (client !== undefined && declared <= maxBytes) {
      const wait = this.budget!.waitMs(client, estimatedCostMs(declared + queryString.length), received);
      if (wait > 0) return refuse(rateLimited(route), Math.ceil(wait / 1000));
    }

    const hasBody = request.headers["transfer-encoding"] !== undefined || declared > 0;
    const body = hasBody ? await readBody(request, maxBytes) : EMPTY;
    if (!Buffer.isBuffer(body)) {
      const reply = bodyProblemReply(route, query.values, request.headers, body);
      // An oversized body is not read to the end: close the connection after answering.
      return this.send(request, response, reply, route, 0, new Map([[body.reason, 1]]), body.status === 413);
    }
    if (client !== undefined && body.length > declared) {
      // A chunked (or compressed) body is only measured once read: check again before parsing it.
      const wait = this.budget!.waitMs(client, estimatedCostMs(body.length + queryString.length), Date.now());
      if (wait > 0) return refuse(rateLimited(route), Math.ceil(wait / 1000));
    }

    const parsing = performance.now();
    const prepared = prepareIngest(
      { route, query, headers: request.headers, body, remoteAddress: request.socket.remoteAddress, received },
      dependencies,
    );
    if (client !== undefined) this.budget!.charge(client, performance.now() - parsing + REQUEST_COST_MS, Date.now());
    if (!prepared.entry) return this.send(request, response, prepared.reply, route, prepared.accepted, prepared.rejected);

    const refusedAll = (reason: string, reply: Reply) => {
      const rejected = new Map(prepared.rejected);
      rejected.set(reason, (rejected.get(reason) ?? 0) + prepared.accepted);
      return this.send(request, response, reply, route, 0, rejected);
    };
    const weeks = settings.MIXSTACK_NEW_WEEKS_PER_MINUTE > 0 ? unknownWeeks(prepared.entry, this.knownWeeks) : [];
    if (weeks.length > settings.MIXSTACK_NEW_WEEKS_PER_MINUTE) {
      const message = `the request reaches ${weeks.length} new weeks of history, more than ${settings.MIXSTACK_NEW_WEEKS_PER_MINUTE} a minute (MIXSTACK_NEW_WEEKS_PER_MINUTE); send older history a few weeks per request`;
      return refusedAll("too_many_new_weeks", prepared.failure(400, message));
    }
    if (weeks.length > 0) {
      const admission = await queue.admitWeeks(weeks, settings.MIXSTACK_NEW_WEEKS_PER_MINUTE);
      if (admission instanceof QueueFailure) {
        return refusedAll(admission.reason, prepared.failure(503, `a temporary failure occurred: ${admission.detail}`, RETRY_AFTER_UNAVAILABLE));
      }
      if (!admission.admitted) {
        const message = `too many new weeks of history this minute (MIXSTACK_NEW_WEEKS_PER_MINUTE: ${settings.MIXSTACK_NEW_WEEKS_PER_MINUTE}); retry later`;
        return refusedAll("new_weeks_budget", prepared.failure(429, message, admission.retryAfterSeconds));
      }
      for (const week of weeks) this.knownWeeks.add(week);
    }

    const started = process.hrtime.bigint();
    const written = await queue.write(prepared.entry);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (written instanceof QueueFailure) {
      metrics.queueWriteSeconds(written.reason, seconds);
      const retryAfter = written.reason === "backpressure" ? RETRY_AFTER_BACKPRESSURE : RETRY_AFTER_UNAVAILABLE;
      return refusedAll(written.reason, prepared.failure(503, `a temporary failure occurred: ${written.detail}`, retryAfter));
    }
    metrics.queueWriteSeconds("ok", seconds);
    this.send(request, response, prepared.reply, route, prepared.accepted, prepared.rejected);
  }

  private send(
    request: IncomingMessage,
    response: ServerResponse,
    reply: Reply,
    route: string,
    accepted = 0,
    rejected: ReadonlyMap<string, number> = new Map(),
    close = false,
  ): void {
    const headers: Record<string, string> = { ...corsHeaders(request.headers), ...reply.headers, ...this.connectionHeader(close) };
    headers["Content-Length"] = String(Buffer.byteLength(reply.body));
    response.writeHead(reply.status, headers);
    response.end(request.method === "HEAD" ? undefined : reply.body);
    this.options.metrics.request(route, reply.status, accepted, rejected);
  }

  private connectionHeader(close = false): Record<string, string> {
    return close || this.draining ? { Connection: "close" } : {};
  }

  /** Malformed HTTP (including headers or a URL over `maxHeaderSize`) never reaches `handle`. */
  private clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const status = tooLarge ? 431 : 400;
    const body = tooLarge
      ? `request line and headers exceed the limit of ${this.options.settings.MIXSTACK_MAX_HEADER_BYTES} bytes`
      : "malformed HTTP request";
    const reason = tooLarge ? "Request Header Fields Too Large" : "Bad Request";
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.options.metrics.request("other", status, 0, new Map([[tooLarge ? "headers_too_large" : "bad_http", 1]]));
  }
}

/** `/import` with an API secret or a service account in the header or the query. */
function isSecretImport(request: IncomingMessage, query: Record<string, string>, dependencies: IngestDependencies): boolean {
  const header = request.headers.authorization;
  const auth = authoriseImport(Array.isArray(header) ? header[0] : header, query, dependencies.credentials);
  return auth.ok && auth.via !== "token";
}

/** Mixpanel's own words for its 429 (strict `/import` shows them as `error`). */
function rateLimited(route: IngestRoute): Rejection {
  const message = route === "import" ? "Project exceeded rate limits. Please retry the request with exponential backoff." : "too many requests from this address; retry later";
  return new Rejection("rate_limited", "", message, { status: 429 });
}

/**
 * A request URL fit for a log line: the path and the query's parameter names only. Values can hold
 * a secret (`api_key` on `/import`) or personal data (`data`: the events themselves).
 */
export function urlForLog(url: string | undefined): string {
  const raw = url ?? "/";
  const mark = raw.indexOf("?");
  if (mark === -1) return raw.slice(0, 200);
  const names = raw
    .slice(mark + 1)
    .split("&")
    .filter(Boolean)
    .map((pair) => pair.split("=")[0]!.slice(0, 40));
  return `${raw.slice(0, Math.min(mark, 200))}?${names.map((name) => `${name}=…`).join("&")}`.slice(0, 300);
}
