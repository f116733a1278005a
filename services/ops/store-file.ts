import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BackupStore, ByteCounter, StoredFile } from "./store";

/** Counts bytes flowing through a pipeline. */
export function byteCounter(onBytes?: ByteCounter): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
  });
}

/** `file:///dir`: a directory on the host (a bind mount or a volume in the Docker target). */
export class FileStore implements BackupStore {
  constructor(
    readonly url: string,
    private readonly root: string,
  ) {}

  async listFolders(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  async listFiles(id: string): Promise<StoredFile[]> {
    const base = join(this.root, id);
    const files: StoredFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.endsWith(".part")) files.push({ path: relative(base, path).split(sep).join("/"), bytes: (await stat(path)).size });
      }
    };
    try {
      await walk(base);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    return files.sort((a, b) => a.path.localeCompare(b.path));
  }

  async upload(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    const target = join(this.root, id, path);
    await mkdir(dirname(target), { recursive: true });
    // Written aside and renamed, so a crash never leaves a short file under the real name.
    await pipeline(createReadStream(localFile), byteCounter(onBytes), createWriteStream(`${target}.part`));
    await rename(`${target}.part`, target);
  }

  async download(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    await mkdir(dirname(localFile), { recursive: true });
    await pipeline(createReadStream(join(this.root, id, path)), byteCounter(onBytes), createWriteStream(localFile));
  }

  async readText(id: string, path: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.root, id, path), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.root, id), { recursive: true, force: true });
  }
}
