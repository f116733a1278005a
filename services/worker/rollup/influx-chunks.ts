import { InfluxError, type InfluxClient } from "../../core/influx";

/**
 * A query answered in chunks (`chunked=true`): InfluxDB streams one JSON object per line, each with
 * part of a series, so a day of events is read with the memory of one chunk, not of the whole answer.
 */

export interface SeriesChunk {
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface ChunkLine {
  error?: string;
  results?: Array<{ error?: string; series?: Array<{ tags?: Record<string, string>; columns: string[]; values?: unknown[][] }> }>;
}

export interface ChunkedQueryOptions {
  db: string;
  chunkSize?: number;
  /** The whole answer must arrive within this; a day of a large product takes seconds. */
  timeoutMs?: number;
  /** Stops the query (the worker is stopping). */
  signal?: AbortSignal;
}

export async function queryChunks(client: InfluxClient, q: string, options: ChunkedQueryOptions, onChunk: (chunk: SeriesChunk) => void): Promise<void> {
  const { url, username, password } = client.connection;
  const form = new URLSearchParams({ q, db: options.db, epoch: "ms", chunked: "true", chunk_size: String(options.chunkSize ?? 10_000) });
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (username) headers.Authorization = `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}`;
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, "")}/query`, {
      method: "POST",
      headers,
      body: form.toString(),
      signal: options.signal
        ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 600_000)])
        : AbortSignal.timeout(options.timeoutMs ?? 600_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new InfluxError(`InfluxDB unreachable at ${url}: ${cause}`, 0);
  }
  if (!response.ok || !response.body) {
    const text = await response.text();
    throw new InfluxError(`InfluxDB query failed (${response.status}): ${text.slice(0, 500)}`, response.status, text);
  }
  const decoder = new TextDecoder();
  let pending = "";
  const handle = (line: string) => {
    if (line.trim() === "") return;
    const parsed = JSON.parse(line) as ChunkLine;
    if (parsed.error) throw new InfluxError(`InfluxDB query failed: ${parsed.error}`, 400, line.slice(0, 500));
    for (const result of parsed.results ?? []) {
      if (result.error) throw new InfluxError(`InfluxQL error: ${result.error}`, 400, line.slice(0, 500));
      for (const series of result.series ?? []) onChunk({ tags: series.tags ?? {}, columns: series.columns, values: series.values ?? [] });
    }
  };
  try {
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(part, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        handle(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    }
  } catch (error) {
    if (error instanceof InfluxError || error instanceof SyntaxError) throw error;
    throw new InfluxError(`InfluxDB answer interrupted: ${(error as Error).message}`, 0);
  }
  handle(pending + decoder.decode());
}
