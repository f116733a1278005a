import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { BackupStore } from "./store";

/**
 * The record of erasures (`mixstack forget`), kept in the backup store beside the backups, in the
 * folder `erasures/`: it outlives a lost Redis or InfluxDB, and every restore reads it from where it
 * reads the backup. It holds no erased id: each id is kept as HMAC-SHA256 under the ledger's own key
 * (`erasures/ledger-key`, 32 random bytes created with the first erasure). Whoever holds the store
 * and an id can tell that the id was erased (that is what a restore needs); nobody can list who was.
 */

export const LEDGER_FOLDER = "erasures";
const KEY_FILE = "ledger-key";

const countsSchema = z.record(z.string(), z.number().int().min(0));

export const erasureRecordSchema = z.object({
  format: z.literal(1),
  id: z.string().min(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** `GDPR` or `CCPA` as in Mixpanel's deletion API; informative. */
  complianceType: z.string().optional(),
  /** HMAC of every id of the erased identity cluster (users, devices, `$device:` forms), sorted. */
  idHashes: z.array(z.string()),
  /** What was removed, counted per place (no ids). */
  removed: countsSchema,
});

export type ErasureRecord = z.infer<typeof erasureRecordSchema>;

/** The ledger's key, created on first use (forget runs under the ops lock, so never twice at once). */
export async function ledgerKey(store: BackupStore, workDir: string, create: boolean): Promise<Buffer | undefined> {
  const text = await store.readText(LEDGER_FOLDER, KEY_FILE);
  if (text !== undefined) return Buffer.from(text.trim(), "base64");
  if (!create) return undefined;
  const key = randomBytes(32);
  await uploadText(store, workDir, KEY_FILE, `${key.toString("base64")}\n`);
  return key;
}

export function idHash(key: Buffer, id: string): string {
  return createHmac("sha256", key).update(id, "utf8").digest("base64url");
}

async function uploadText(store: BackupStore, workDir: string, path: string, text: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(join(workDir, "mixstack-ledger-"));
  try {
    const file = join(dir, "upload");
    await writeFile(file, text);
    await store.upload(LEDGER_FOLDER, path, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A new erasure's id: its start time (sortable) and a random tail. */
export function erasureIdFor(time: Date): string {
  return `${time.toISOString().replace(/[-:]/g, "")}-${randomUUID().slice(0, 8)}`;
}

export async function recordErasure(store: BackupStore, workDir: string, record: ErasureRecord): Promise<void> {
  await uploadText(store, workDir, `${record.id}.json`, `${JSON.stringify(record, null, 2)}\n`);
}

/** Every erasure recorded, oldest first; a damaged record stops the caller (a restore must not guess). */
export async function listErasures(store: BackupStore): Promise<ErasureRecord[]> {
  const records: ErasureRecord[] = [];
  for (const file of await store.listFiles(LEDGER_FOLDER)) {
    if (!file.path.endsWith(".json")) continue;
    const text = await store.readText(LEDGER_FOLDER, file.path);
    if (text === undefined) continue;
    let parsed: ReturnType<typeof erasureRecordSchema.safeParse>;
    try {
      parsed = erasureRecordSchema.safeParse(JSON.parse(text));
    } catch (error) {
      throw new Error(`erasure record ${LEDGER_FOLDER}/${file.path} in ${store.url} is not JSON: ${(error as Error).message}`);
    }
    if (!parsed.success) throw new Error(`erasure record ${LEDGER_FOLDER}/${file.path} in ${store.url} is damaged: ${parsed.error.issues[0]!.message}`);
    records.push(parsed.data);
  }
  return records.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.id.localeCompare(b.id));
}

/** Erasures that finished after `time`: those a backup started at `time` may still hold. */
export function erasuresAfter(records: readonly ErasureRecord[], time: string): ErasureRecord[] {
  return records.filter((record) => record.finishedAt > time);
}

/**
 * Tells whether an id was erased, from the hashes of some erasures. Ids repeat a lot in a database
 * (one user, many events), so answers are remembered (a bounded cache).
 */
export class ErasedIds {
  private readonly hashes: Set<string>;
  private readonly cache = new Map<string, boolean>();

  constructor(
    private readonly key: Buffer,
    records: readonly ErasureRecord[],
  ) {
    this.hashes = new Set(records.flatMap((record) => record.idHashes));
  }

  get empty(): boolean {
    return this.hashes.size === 0;
  }

  has(id: string): boolean {
    if (this.hashes.size === 0 || id === "") return false;
    let known = this.cache.get(id);
    if (known === undefined) {
      known = this.hashes.has(idHash(this.key, id));
      if (this.cache.size >= 200_000) this.cache.clear();
      this.cache.set(id, known);
    }
    return known;
  }
}
