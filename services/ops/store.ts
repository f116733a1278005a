import { FileStore } from "./store-file";
import { GcsStore } from "./store-gcs";
import { S3Store } from "./store-s3";

/**
 * Where backups live. A store holds one folder per backup id (`<root>/<id>/<file>`); paths inside a
 * backup use `/`. `file://`, `s3://` and `gs://` each have a file.
 */

export interface StoredFile {
  /** Relative to the backup's folder, e.g. `influx/20261123T030000Z.s1.tar.gz`. */
  path: string;
  bytes: number;
}

/** Reports bytes as they move, for the progress display. */
export type ByteCounter = (bytes: number) => void;

export interface BackupStore {
  /** The store's URL, for messages. */
  readonly url: string;
  /** The names of the folders at the root (backup ids, and whatever else is there). */
  listFolders(): Promise<string[]>;
  listFiles(id: string): Promise<StoredFile[]>;
  upload(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void>;
  download(id: string, path: string, localFile: string, onBytes?: ByteCounter): Promise<void>;
  /** The file's text, or undefined when it does not exist. */
  readText(id: string, path: string): Promise<string | undefined>;
  /** Removes the backup's folder and everything in it. */
  remove(id: string): Promise<void>;
}

export interface StoreOptions {
  /** S3-compatible endpoint (MinIO, s3rver); path-style addressing is used with it. */
  s3Endpoint?: string;
  /** Region for S3; unset: the SDK's own chain (`AWS_REGION`, profile), or us-east-1 with an endpoint. */
  s3Region?: string;
}

export interface StoreLocation {
  scheme: "file" | "s3" | "gs";
  /** Directory for `file`, bucket for `s3`/`gs`. */
  root: string;
  /** Key prefix inside the bucket, without leading or trailing `/` ("" for none). */
  prefix: string;
}

/** Splits `BACKUP_TARGET`; an Error value says what is wrong with it. */
export function parseStoreUrl(url: string): StoreLocation | Error {
  const match = /^(file|s3|gs):\/\/(.*)$/.exec(url);
  if (!match) return new Error(`BACKUP_TARGET ${JSON.stringify(url)}: expected file:///dir, s3://bucket/prefix or gs://bucket/prefix`);
  const scheme = match[1] as StoreLocation["scheme"];
  const rest = match[2]!;
  if (scheme === "file") {
    if (!rest.startsWith("/")) return new Error(`BACKUP_TARGET ${JSON.stringify(url)}: a file:// target needs an absolute path (file:///dir)`);
    return { scheme, root: decodeURIComponent(rest), prefix: "" };
  }
  const [bucket, ...prefix] = rest.split("/");
  if (!bucket) return new Error(`BACKUP_TARGET ${JSON.stringify(url)}: no bucket name`);
  return { scheme, root: bucket, prefix: prefix.filter(Boolean).join("/") };
}

/** Opens the store for a URL. */
export function openStore(url: string, options: StoreOptions = {}): BackupStore {
  const location = parseStoreUrl(url);
  if (location instanceof Error) throw location;
  switch (location.scheme) {
    case "file":
      return new FileStore(url, location.root);
    case "s3":
      return S3Store.open(url, location, options);
    case "gs":
      return GcsStore.open(url, location);
  }
}
