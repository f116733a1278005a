import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { once } from "node:events";
import { join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { FileFacts, ManifestFile } from "./manifest";
import { decodeStateRecord, encodeStateRecord, type StateRecord } from "./redis-state-format";

/** Files of a staged backup on local disk: checksums, listing, and the gzip'd NDJSON state file. */

export async function sha256File(path: string): Promise<FileFacts> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** Every file under `dir`, as `/`-separated relative paths with size and sha256. */
export async function describeFiles(dir: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push({ path: relative(dir, path).split(sep).join("/"), ...(await sha256File(path)) });
    }
  };
  await walk(dir);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** A gzip'd NDJSON writer that respects back-pressure. */
export function stateFileWriter(path: string): { write(record: StateRecord): Promise<void>; close(): Promise<void> } {
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(path));
  return {
    async write(record) {
      if (!gzip.write(encodeStateRecord(record))) await once(gzip, "drain");
    },
    async close() {
      gzip.end();
      await done;
    },
  };
}

/** Reads the state file back; a damaged line or a truncated gzip stream throws, naming the file. */
export async function* readStateFile(path: string): AsyncGenerator<StateRecord> {
  const input = createReadStream(path);
  const gunzip = createGunzip();
  input.on("error", (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  gunzip.setEncoding("utf8"); // decodes characters split across chunks correctly
  let lineNumber = 0;
  let rest = "";
  const decode = (line: string): StateRecord | undefined => {
    lineNumber += 1;
    if (!line) return undefined;
    const record = decodeStateRecord(line, lineNumber);
    if (record instanceof Error) throw new Error(`${path}: ${record.message}`);
    return record;
  };
  try {
    for await (const chunk of gunzip) {
      const lines = (rest + (chunk as string)).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const record = decode(line);
        if (record) yield record;
      }
    }
  } catch (error) {
    if ((error as Error).message.startsWith(path)) throw error;
    throw new Error(`${path}: ${(error as Error).message} (truncated or damaged)`);
  }
  const last = decode(rest);
  if (last) yield last;
}
