import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CRC32C } from "@google-cloud/storage";

/**
 * A loopback server that speaks the part of the Cloud Storage JSON API that `@google-cloud/storage`
 * uses for our store (with `STORAGE_EMULATOR_HOST` the SDK drops the `/storage/v1` prefix): list, simple (multipart) and resumable uploads, metadata, media download and
 * delete. No GCS emulator can be installed from npm or Debian here, so the real SDK is pointed at
 * this (`STORAGE_EMULATOR_HOST`) and its requests are checked on the wire. Objects live in memory.
 */

interface StoredObject {
  data: Buffer;
  contentType: string;
}

export interface FakeGcs {
  url: string;
  objects: Map<string, StoredObject>;
  /** `METHOD path?query` of every request, for assertions on what the SDK sent. */
  requests: string[];
  close(): Promise<void>;
}

function crc32c(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function metadata(bucket: string, name: string, object: StoredObject) {
  return {
    kind: "storage#object",
    id: `${bucket}/${name}/1`,
    name,
    bucket,
    generation: "1",
    metageneration: "1",
    contentType: object.contentType,
    size: String(object.data.length),
    md5Hash: createHash("md5").update(object.data).digest("base64"),
    // The SDK checks uploads and downloads against these, as it does with GCS.
    crc32c: crc32c(object.data),
    updated: new Date().toISOString(),
  };
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(value));
}

/** Splits a multipart/related upload body into its metadata part and its media part. */
function parseMultipart(contentType: string, raw: Buffer): { meta: { name?: string; contentType?: string }; media: Buffer } {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error("no multipart boundary");
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const next = raw.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    parts.push(raw.subarray(start + delimiter.length + 2, next - 2)); // skip CRLF after the delimiter and before the next
    start = next;
  }
  const split = (part: Buffer) => {
    const end = part.indexOf("\r\n\r\n");
    return part.subarray(end + 4);
  };
  return { meta: JSON.parse(split(parts[0]!).toString("utf8")), media: split(parts[1]!) };
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects = new Map<string, StoredObject>();
  const requests: string[] = [];
  const sessions = new Map<string, { bucket: string; name: string; contentType: string; chunks: Buffer[] }>();
  let server: Server;
  const url = await new Promise<string>((resolve) => {
    server = createServer(async (request, response) => {
      const parsed = new URL(request.url ?? "/", "http://localhost");
      requests.push(`${request.method} ${parsed.pathname}${parsed.search}`);
      try {
        const raw = await body(request);
        let match: RegExpExecArray | null;
        if (request.method === "GET" && (match = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o$/.exec(parsed.pathname))) {
          const bucket = decodeURIComponent(match[1]!);
          const prefix = parsed.searchParams.get("prefix") ?? "";
          const items = [...objects.entries()]
            .filter(([key]) => key.startsWith(`${bucket}/${prefix}`))
            .map(([key, object]) => metadata(bucket, key.slice(bucket.length + 1), object))
            .sort((a, b) => a.name.localeCompare(b.name));
          return json(response, 200, { kind: "storage#objects", items });
        }
        if ((match = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o\/(.+)$/.exec(parsed.pathname))) {
          const bucket = decodeURIComponent(match[1]!);
          const name = decodeURIComponent(match[2]!);
          const object = objects.get(`${bucket}/${name}`);
          if (!object) return json(response, 404, { error: { code: 404, message: `No such object: ${bucket}/${name}` } });
          if (request.method === "DELETE") {
            objects.delete(`${bucket}/${name}`);
            response.writeHead(204).end();
            return;
          }
          if (parsed.searchParams.get("alt") === "media") {
            response.writeHead(200, {
              "Content-Type": object.contentType,
              "Content-Length": String(object.data.length),
              "x-goog-hash": `crc32c=${crc32c(object.data)},md5=${createHash("md5").update(object.data).digest("base64")}`,
              "x-goog-stored-content-encoding": "identity",
            });
            response.end(object.data);
            return;
          }
          return json(response, 200, metadata(bucket, name, object));
        }
        if (request.method === "POST" && (match = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(parsed.pathname))) {
          const bucket = decodeURIComponent(match[1]!);
          const uploadType = parsed.searchParams.get("uploadType");
          if (uploadType === "multipart") {
            const { meta, media } = parseMultipart(String(request.headers["content-type"]), raw);
            const name = meta.name ?? parsed.searchParams.get("name")!;
            const object = { data: media, contentType: meta.contentType ?? "application/octet-stream" };
            objects.set(`${bucket}/${name}`, object);
            return json(response, 200, metadata(bucket, name, object));
          }
          if (uploadType === "resumable") {
            const meta = raw.length ? (JSON.parse(raw.toString("utf8")) as { name?: string; contentType?: string }) : {};
            const id = `session-${sessions.size + 1}`;
            sessions.set(id, { bucket, name: meta.name ?? parsed.searchParams.get("name")!, contentType: meta.contentType ?? "application/octet-stream", chunks: [] });
            response.writeHead(200, { Location: `${url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}` });
            response.end();
            return;
          }
        }
        if (request.method === "PUT" && /^\/upload\/storage\/v1\/b\/[^/]+\/o$/.test(parsed.pathname)) {
          const session = sessions.get(parsed.searchParams.get("upload_id") ?? "");
          if (!session) return json(response, 404, { error: { code: 404, message: "no such upload session" } });
          session.chunks.push(raw);
          const range = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(String(request.headers["content-range"] ?? ""));
          const received = session.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
          if (range && range[3] === "*") {
            response.writeHead(308, { Range: `bytes=0-${received - 1}` });
            response.end();
            return;
          }
          const object = { data: Buffer.concat(session.chunks), contentType: session.contentType };
          objects.set(`${session.bucket}/${session.name}`, object);
          return json(response, 200, metadata(session.bucket, session.name, object));
        }
        json(response, 501, { error: { code: 501, message: `fake GCS does not implement ${request.method} ${parsed.pathname}` } });
      } catch (error) {
        json(response, 500, { error: { code: 500, message: (error as Error).message } });
      }
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
  });
  return {
    url,
    objects,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
