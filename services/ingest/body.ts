import type { IncomingMessage } from "node:http";
import { gunzip, inflate } from "node:zlib";
import { Rejection } from "./rejection";

/**
 * Reads a request body into memory with a hard cap on both the bytes received and, for
 * `Content-Encoding: gzip`/`deflate`, the bytes after decompression (so a small gzip bomb cannot
 * expand into gigabytes: zlib stops at the cap).
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | Rejection> {
  const encoding = (request.headers["content-encoding"] ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity" && encoding !== "gzip" && encoding !== "x-gzip" && encoding !== "deflate") {
    return new Rejection("unsupported_encoding", "Content-Encoding", `${JSON.stringify(encoding)} is not supported (use gzip)`, { status: 415 });
  }
  const declared = Number(request.headers["content-length"]);
  if (declared > maxBytes) return tooLarge(maxBytes);
  const raw = await collect(request, maxBytes);
  if (raw instanceof Rejection) return raw;
  if (raw.length === 0 || encoding === "" || encoding === "identity") return raw;
  return decompress(raw, encoding === "deflate" ? "deflate" : "gzip", maxBytes);
}

function collect(request: IncomingMessage, maxBytes: number): Promise<Buffer | Rejection> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | Rejection) => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("aborted", onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the server answers 413 and closes the connection.
        request.pause();
        finish(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = () => finish(new Rejection("aborted", "body", "the request body was not received completely"));
    const onAborted = onError;
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("aborted", onAborted);
  });
}

function decompress(raw: Buffer, format: "gzip" | "deflate", maxBytes: number): Promise<Buffer | Rejection> {
  return new Promise((resolve) => {
    const done = (error: Error | null, result: Buffer) => {
      if (!error) return resolve(result);
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return resolve(tooLarge(maxBytes, "decompressed "));
      resolve(new Rejection("bad_compression", "body", `not valid ${format} data`));
    };
    // maxOutputLength makes zlib give up as soon as the output passes the cap.
    if (format === "gzip") gunzip(raw, { maxOutputLength: maxBytes }, done);
    else inflate(raw, { maxOutputLength: maxBytes }, done);
  });
}

function tooLarge(maxBytes: number, what = ""): Rejection {
  return new Rejection("body_too_large", "", `${what}request exceeds max limit of ${maxBytes} bytes`, { status: 413 });
}
