import { createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Bucket } from "@google-cloud/storage";
import type { BackupStore, ByteCounter, StoreLocation, StoredFile } from "./store";
import { foldersFromKeys, objectKey } from "./store-keys";
import { byteCounter } from "./store-file";

const RESUMABLE_ABOVE_BYTES = 5 * 1024 * 1024;

/**
 * `gs://bucket/prefix` with `@google-cloud/storage`. Credentials come from Application Default
 * Credentials (the job's service account on Cloud Run). `STORAGE_EMULATOR_HOST` is honoured by the SDK.
 */
export class GcsStore implements BackupStore {
  constructor(
    readonly url: string,
    private readonly bucket: Bucket,
    private readonly prefix: string,
  ) {}

  static open(url: string, location: StoreLocation): GcsStore {
    // Loaded on first use: the SDK takes seconds to load, and most commands never touch GCS.
    const { Storage } = require("@google-cloud/storage") as typeof import("@google-cloud/storage");
    return new GcsStore(url, new Storage().bucket(location.root), location.prefix);
  }

  private async files(under: string): Promise<{ name: string; bytes: number }[]> {
    const [files] = await this.bucket.getFiles({ prefix: under });
    return files.map((file) => ({ name: file.name, bytes: Number(file.metadata.size ?? 0) }));
  }

  async listFolders(): Promise<string[]> {
    const files = await this.files(this.prefix ? `${this.prefix}/` : "");
    return foldersFromKeys(this.prefix, files.map(({ name }) => name));
  }

  async listFiles(id: string): Promise<StoredFile[]> {
    const base = `${objectKey(this.prefix, id)}/`;
    return (await this.files(base)).map(({ name, bytes }) => ({ path: name.slice(base.length), bytes }));
  }

  async upload(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    let sent = 0;
    await this.bucket.upload(localFile, {
      destination: objectKey(this.prefix, id, path),
      // A resumable session survives a dropped connection on a large shard; small files go in one request.
      resumable: (await stat(localFile)).size > RESUMABLE_ABOVE_BYTES,
      onUploadProgress: (event: { bytesWritten: number }) => {
        onBytes?.(event.bytesWritten - sent);
        sent = event.bytesWritten;
      },
    });
  }

  async download(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    await mkdir(dirname(localFile), { recursive: true });
    const file = this.bucket.file(objectKey(this.prefix, id, path));
    await pipeline(file.createReadStream(), byteCounter(onBytes), createWriteStream(localFile));
  }

  async readText(id: string, path: string): Promise<string | undefined> {
    const file = this.bucket.file(objectKey(this.prefix, id, path));
    const [exists] = await file.exists();
    if (!exists) return undefined;
    const [contents] = await file.download();
    return contents.toString("utf8");
  }

  async remove(id: string): Promise<void> {
    await this.bucket.deleteFiles({ prefix: `${objectKey(this.prefix, id)}/` });
  }
}
