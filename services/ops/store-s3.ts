import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { BackupStore, ByteCounter, StoreLocation, StoreOptions, StoredFile } from "./store";
import { foldersFromKeys, objectKey } from "./store-keys";
import { byteCounter } from "./store-file";

// Loaded on first use: the SDK takes seconds to load, and most commands never touch S3.
const sdk = () => require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
const multipart = () => require("@aws-sdk/lib-storage") as typeof import("@aws-sdk/lib-storage");

/**
 * `s3://bucket/prefix` with the AWS SDK v3. Credentials and region come from the SDK's default
 * chain (task role on ECS, `AWS_PROFILE`/`AWS_REGION` on an operator's machine).
 */
export class S3Store implements BackupStore {
  constructor(
    readonly url: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  static open(url: string, location: StoreLocation, options: StoreOptions = {}): S3Store {
    const config: S3ClientConfig = {};
    if (options.s3Region) config.region = options.s3Region;
    if (options.s3Endpoint) {
      config.endpoint = options.s3Endpoint;
      config.forcePathStyle = true;
      config.region ??= "us-east-1"; // S3-compatible servers mostly ignore it, the SDK needs one
      // S3-compatible servers rarely implement the SDK's default CRC trailers.
      config.requestChecksumCalculation = "WHEN_REQUIRED";
      config.responseChecksumValidation = "WHEN_REQUIRED";
    }
    return new S3Store(url, new (sdk().S3Client)(config), location.root, location.prefix);
  }

  private async keys(under: string): Promise<{ key: string; bytes: number }[]> {
    const keys: { key: string; bytes: number }[] = [];
    for await (const page of sdk().paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: under })) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push({ key: object.Key, bytes: object.Size ?? 0 });
    }
    return keys;
  }

  async listFolders(): Promise<string[]> {
    const keys = await this.keys(this.prefix ? `${this.prefix}/` : "");
    return foldersFromKeys(this.prefix, keys.map(({ key }) => key));
  }

  async listFiles(id: string): Promise<StoredFile[]> {
    const base = `${objectKey(this.prefix, id)}/`;
    return (await this.keys(base)).map(({ key, bytes }) => ({ path: key.slice(base.length), bytes }));
  }

  async upload(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    const upload = new (multipart().Upload)({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey(this.prefix, id, path), Body: createReadStream(localFile) },
      queueSize: 2,
    });
    let sent = 0;
    upload.on("httpUploadProgress", (progress) => {
      if (progress.loaded === undefined) return;
      onBytes?.(progress.loaded - sent);
      sent = progress.loaded;
    });
    await upload.done();
  }

  private async body(id: string, path: string): Promise<Readable | undefined> {
    try {
      const response = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key: objectKey(this.prefix, id, path) }));
      return response.Body as Readable;
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  }

  async download(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void> {
    const body = await this.body(id, path);
    if (!body) throw new Error(`${this.url}: ${id}/${path} does not exist`);
    await mkdir(dirname(localFile), { recursive: true });
    await pipeline(body, byteCounter(onBytes), createWriteStream(localFile));
  }

  async readText(id: string, path: string): Promise<string | undefined> {
    const body = await this.body(id, path);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString("utf8");
  }

  async remove(id: string): Promise<void> {
    const keys = await this.keys(`${objectKey(this.prefix, id)}/`);
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000).map(({ key }) => ({ Key: key }));
      const result = await this.client.send(new (sdk().DeleteObjectsCommand)({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
      if (result.Errors?.length) throw new Error(`${this.url}: could not delete ${result.Errors[0]!.Key}: ${result.Errors[0]!.Message}`);
    }
  }
}
