import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listenOn } from "../core/listen";
import { InfluxError, type InfluxConnection } from "../core/influx";
import type { Logger } from "../core/log";
import { authoriseQuery } from "./auth";
import type { EndpointReply, QueryContext } from "./endpoints/context";
import type { EventCatalog } from "./event-columns";
import type { RedisCommands } from "./identity";
import { LimitExceeded, queryLimitSpecs } from "./limits";
import type { QueryMetrics } from "./metrics";
import { ParamError, Params } from "./params";
import { endpointOf, endpoints } from "./routes";
import type { QuerySettings } from "./settings";
import type { TimeZone } from "./time-zone";

/**
 * The HTTP edge of `mixstack query`: authentication, routing, parameters from the query string and a
 * form (or JSON) body, the concurrency and time limits, and Mixpanel-shaped errors
 * (`{"error", "request"}`). What to answer is decided by the endpoints; bad input is a 4xx, never a 500.
 */

const MAX_BODY_BYTES = 1024 * 1024;

export class QueryTimeout extends Error {}

export interface QueryServerOptions {
  settings: QuerySettings;
  zone: TimeZone;
  redis: RedisCommands;
  catalog: () => Promise<EventCatalog>;
  metrics: QueryMetrics;
  log: Logger;
  now?: () => number;
}

class Reject extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class QueryServer {
  readonly server: Server;
  private heavy = 0;

  constructor(private readonly options: QueryServerOptions) {
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.requestTimeout = 0; // the endpoints' own time limit applies
    this.server.headersTimeout = 60_000;
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return listenOn(this.server, port, host);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const started = process.hrtime.bigint();
    const url = request.url ?? "/";
    const label = url.length > 500 ? `${url.slice(0, 500)}…` : url;
    let endpoint = "other";
    const done = (status: number) => {
      this.options.metrics.requests.inc({ endpoint, status: String(status) });
      this.options.metrics.seconds.observe({ endpoint }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    this.route(request, response, (name) => (endpoint = name)).then(
      (status) => done(status),
      (error: unknown) => {
        const status = this.fail(response, label, error);
        done(status);
      },
    );
  }

  private async route(request: IncomingMessage, response: ServerResponse, named: (endpoint: string) => void): Promise<number> {
    let parsed: URL;
    try {
      parsed = new URL(request.url ?? "/", "http://query");
    } catch {
      throw new Reject(400, "malformed request URL");
    }
    if (parsed.pathname === "/healthz") {
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.end("ok");
      return 200;
    }
    const name = endpointOf(parsed.pathname);
    if (!name) throw new Reject(404, `unknown path ${parsed.pathname.slice(0, 200)}; the Query API lives under /api/query/ and /api/2.0/`);
    named(name);
    const auth = authoriseQuery(request.headers.authorization, this.options.settings.MIXSTACK_QUERY_SECRET);
    if (!auth.ok) throw new Reject(401, auth.reason, { "WWW-Authenticate": 'Basic realm="mixstack query"' });
    if (request.method !== "GET" && request.method !== "POST") throw new Reject(405, `method ${request.method} not allowed; use GET or POST`, { Allow: "GET, POST" });
    const values = new URLSearchParams(parsed.search);
    if (request.method === "POST") for (const [key, value] of await readForm(request)) values.set(key, value);
    const { run, heavy } = endpoints[name]!;
    const { settings } = this.options;
    if (heavy && this.heavy >= settings.limits.maxConcurrent) {
      throw new Reject(429, `too many queries at once (at most ${settings.limits.maxConcurrent}, ${queryLimitSpecs.maxConcurrent.env}); retry shortly`, { "Retry-After": "1" });
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new QueryTimeout(`the query took longer than its limit of ${settings.limits.timeoutMs} ms (${queryLimitSpecs.timeoutMs.env})`)), settings.limits.timeoutMs);
    const gone = () => {
      if (!response.writableEnded) controller.abort(new Reject(499, "the client went away"));
    };
    response.once("close", gone);
    if (heavy) {
      this.heavy += 1;
      this.options.metrics.inFlight.inc();
    }
    // `explain=true`: the InfluxQL each scan ran, in a response header (the benchmark's baseline replays it).
    const explained: string[] = [];
    const explain = values.get("explain") === "true";
    values.delete("explain");
    try {
      const reply = await run(new Params(values, settings.limits), this.context(controller.signal, explained));
      if (explain && explained.length) response.setHeader("X-Mixstack-InfluxQL", explained.map(encodeURIComponent).join(","));
      return await this.send(request, response, reply);
    } finally {
      clearTimeout(timer);
      response.off("close", gone);
      if (heavy) {
        this.heavy -= 1;
        this.options.metrics.inFlight.dec();
      }
    }
  }

  private context(signal: AbortSignal, explained: string[]): QueryContext {
    const { settings, metrics } = this.options;
    const influx: InfluxConnection = { url: settings.INFLUX_URL, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD, timeoutMs: settings.limits.timeoutMs };
    return {
      influx,
      database: settings.INFLUX_DB,
      redis: this.options.redis,
      zone: this.options.zone,
      funnels: settings.funnels,
      limits: settings.limits,
      chunkSize: settings.QUERY_CHUNK_SIZE,
      identityBatch: settings.QUERY_IDENTITY_BATCH,
      catalog: this.options.catalog,
      now: this.options.now ?? Date.now,
      signal,
      log: this.options.log,
      observe: ({ rows, lookups, query }) => {
        explained.push(query);
        metrics.rowsRead.inc(rows);
        metrics.identityLookups.inc(lookups);
      },
    };
  }

  private async send(request: IncomingMessage, response: ServerResponse, reply: EndpointReply): Promise<number> {
    if ("stream" in reply) {
      await reply.stream(response, /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? "")));
      return reply.status;
    }
    const body = JSON.stringify(reply.json);
    response.writeHead(reply.status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    response.end(body);
    return reply.status;
  }

  /** Every failure as Mixpanel's error body; the status says whose fault it is. */
  private fail(response: ServerResponse, label: string, error: unknown): number {
    let status = 500;
    let message = "internal error";
    let headers: Record<string, string> = {};
    if (error instanceof Reject) {
      status = error.status;
      message = error.message;
      headers = error.headers;
    } else if (error instanceof ParamError || error instanceof LimitExceeded) {
      status = error.status;
      message = error.message;
    } else if (error instanceof QueryTimeout) {
      status = 504;
      message = error.message;
    } else if (error instanceof InfluxError) {
      status = error.status === 0 ? 503 : 502;
      message = error.message;
    } else if (isRedisError(error)) {
      status = 503;
      message = `the identity/profile store (Redis) is unavailable: ${(error as Error).message}`;
    } else {
      this.options.log.error({ err: error, request: label }, "query failed unexpectedly");
    }
    if (status >= 500 && status !== 500) this.options.log.warn({ status, err: message, request: label }, "query failed");
    if (response.headersSent) {
      response.destroy();
      return status;
    }
    const body = JSON.stringify({ error: message, request: label });
    response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers });
    response.end(body);
    return status;
  }
}

function isRedisError(error: unknown): boolean {
  const name = (error as Error | undefined)?.constructor?.name ?? "";
  return /Redis|Socket|ClientClosed|Reconnect|Connection/i.test(name);
}

/** A POST body: form-urlencoded (Mixpanel's clients) or a JSON object (values taken as text). */
async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Reject(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (/^application\/json/i.test(String(request.headers["content-type"] ?? "")) || text.trimStart().startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Reject(400, "the request body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Reject(400, "a JSON request body must be an object of parameters");
    return new URLSearchParams(Object.entries(parsed).map(([key, value]): [string, string] => [key, typeof value === "string" ? value : JSON.stringify(value)]));
  }
  return new URLSearchParams(text);
}
