import { constants, gzipSync } from "node:zlib";
import { redactUrl } from "./redact";

/**
 * A small client for the InfluxDB 1.x HTTP API (`/ping`, `/query`, `/write`), the part that 1.6.7
 * (our test binary) and 1.12.4 (the image we deploy) share.
 */

export interface InfluxConnection {
  url: string;
  username?: string;
  password?: string;
  /** Per-request timeout; a hung InfluxDB must not hang the caller. */
  timeoutMs?: number;
}

export interface SeriesResult {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  /** Absent when a statement matched nothing (e.g. SHOW USERS with no users). */
  values?: unknown[][];
}

export interface StatementResult {
  statement_id?: number;
  series?: SeriesResult[];
  error?: string;
}

/** An answer from InfluxDB that is not success; `status` 0 means it was not reached at all. */
export class InfluxError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body = "",
  ) {
    super(message);
  }

  /** 5xx, timeouts and refused connections: worth retrying. 4xx are answers about the data. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export interface WriteOptions {
  db: string;
  rp?: string;
  precision?: "n" | "u" | "ms" | "s";
  gzip?: boolean;
}

export class InfluxClient {
  constructor(readonly connection: InfluxConnection) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const { username, password } = this.connection;
    const headers: Record<string, string> = { ...extra };
    if (username) headers.Authorization = `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}`;
    return headers;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.connection.url.replace(/\/$/, "")}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new InfluxError(`InfluxDB unreachable at ${redactUrl(this.connection.url)}: ${cause}`, 0);
    }
  }

  async ping(): Promise<boolean> {
    try {
      const response = await this.request("/ping", { method: "GET", headers: this.headers() });
      await response.arrayBuffer();
      return response.status === 204 || response.ok;
    } catch {
      return false;
    }
  }

  /**
   * Runs one or more InfluxQL statements (POST, so DDL and SELECT INTO work) and returns each
   * statement's result. A statement error is thrown unless `allowStatementErrors`.
   */
  async query(
    q: string,
    options: { db?: string; epoch?: "ns" | "ms" | "s"; params?: Record<string, unknown>; allowStatementErrors?: boolean } = {},
  ): Promise<StatementResult[]> {
    const form = new URLSearchParams({ q });
    if (options.db) form.set("db", options.db);
    if (options.epoch) form.set("epoch", options.epoch);
    if (options.params) form.set("params", JSON.stringify(options.params));
    const response = await this.request("/query", {
      method: "POST",
      headers: this.headers({ "Content-Type": "application/x-www-form-urlencoded" }),
      body: form.toString(),
    });
    const text = await response.text();
    if (!response.ok) throw new InfluxError(`InfluxDB query failed (${response.status}): ${errorText(text)}`, response.status, text);
    const parsed = JSON.parse(text) as { results?: StatementResult[]; error?: string };
    if (parsed.error) throw new InfluxError(`InfluxDB query failed: ${parsed.error}`, 400, text);
    const results = parsed.results ?? [];
    const failed = results.find((result) => result.error);
    if (failed && !options.allowStatementErrors) throw new InfluxError(`InfluxQL error: ${failed.error}`, 400, text);
    return results;
  }

  /** Rows of the first statement's series as objects keyed by column (tags of grouped series included). */
  async rows(q: string, options: { db?: string; epoch?: "ns" | "ms" | "s" } = {}): Promise<Record<string, unknown>[]> {
    const [first] = await this.query(q, options);
    return (first?.series ?? []).flatMap((series) =>
      (series.values ?? []).map((values) => ({
        ...series.tags,
        ...Object.fromEntries(series.columns.map((column, index) => [column, values[index]])),
      })),
    );
  }

  /** Writes line protocol. Throws `InfluxError`; a partial write (400) carries InfluxDB's text. */
  async write(lines: string, options: WriteOptions): Promise<void> {
    const params = new URLSearchParams({ db: options.db, precision: options.precision ?? "n" });
    if (options.rp) params.set("rp", options.rp);
    // Level 1: line protocol compresses almost as well as at the default level 6 (within 2 %, measured
    // on event batches) for well under half the CPU, which the worker shares with everything else.
    const body = options.gzip ? gzipSync(lines, { level: constants.Z_BEST_SPEED }) : lines;
    const response = await this.request(`/write?${params}`, {
      method: "POST",
      headers: this.headers({
        "Content-Type": "text/plain; charset=utf-8",
        ...(options.gzip ? { "Content-Encoding": "gzip" } : {}),
      }),
      body,
    });
    const text = await response.text();
    if (response.status !== 204 && !response.ok) {
      throw new InfluxError(`InfluxDB write failed (${response.status}): ${errorText(text)}`, response.status, text);
    }
  }
}

function errorText(body: string): string {
  try {
    return (JSON.parse(body) as { error?: string }).error ?? body;
  } catch {
    return body.slice(0, 500);
  }
}

/** Quotes an identifier for InfluxQL (`"my ""odd"" name"` style escaping is `\"`). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Quotes a string literal for InfluxQL. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
