import { InfluxError, type InfluxConnection } from "../core/influx";

/**
 * Reads a SELECT from InfluxDB 1.x as a stream: `chunked=true&chunk_size=N` makes influxd answer one
 * JSON document per chunk of N rows, each on its own line (checked against influxd 1.6.7 here and
 * the 1.8 handler: `chunked=<N>` alone is *not* parsed as a size). Rows of all series of a raw
 * SELECT without GROUP BY come interleaved in time order, so one pass over the chunks sees every
 * event in time order. Memory: one chunk at a time; the body is read as it arrives.
 */

export interface RowChunk {
  columns: string[];
  values: unknown[][];
}

export interface StreamOptions {
  database: string;
  chunkSize: number;
  signal?: AbortSignal;
}

interface ChunkDocument {
  error?: string;
  results?: Array<{ error?: string; series?: Array<{ columns: string[]; values?: unknown[][] }> }>;
}

export async function* streamSelect(connection: InfluxConnection, query: string, options: StreamOptions): AsyncGenerator<RowChunk> {
  const params = new URLSearchParams({ db: options.database, q: query, epoch: "ms", chunked: "true", chunk_size: String(options.chunkSize) });
  const headers: Record<string, string> = {};
  if (connection.username) headers.Authorization = `Basic ${Buffer.from(`${connection.username}:${connection.password ?? ""}`).toString("base64")}`;
  let response: Response;
  try {
    response = await fetch(`${connection.url.replace(/\/$/, "")}/query?${params}`, { headers, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new InfluxError(`InfluxDB unreachable at ${connection.url}: ${cause}`, 0);
  }
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => "");
    throw new InfluxError(`InfluxDB query failed (${response.status}): ${text.slice(0, 300)}`, response.status, text);
  }
  const parse = (line: string): RowChunk[] => {
    if (line.trim() === "") return [];
    const document = JSON.parse(line) as ChunkDocument;
    if (document.error) throw new InfluxError(`InfluxDB query failed: ${document.error}`, 400, line.slice(0, 300));
    const chunks: RowChunk[] = [];
    for (const result of document.results ?? []) {
      if (result.error) throw new InfluxError(`InfluxQL error: ${result.error}`, 400, line.slice(0, 300));
      for (const series of result.series ?? []) if (series.values?.length) chunks.push({ columns: series.columns, values: series.values });
    }
    return chunks;
  };
  // Pieces are kept as bytes until a line ends, so a long chunk is scanned once, not once per piece.
  let pieces: Buffer[] = [];
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      let piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let newline = piece.indexOf(10);
      while (newline !== -1) {
        pieces.push(piece.subarray(0, newline));
        const line = Buffer.concat(pieces).toString("utf8");
        pieces = [];
        yield* parse(line);
        piece = piece.subarray(newline + 1);
        newline = piece.indexOf(10);
      }
      if (piece.length) pieces.push(piece);
    }
    yield* parse(Buffer.concat(pieces).toString("utf8"));
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}
