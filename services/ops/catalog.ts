import { timeOfBackupId } from "./backup-id";
import { MANIFEST_FILE, parseManifest, type Manifest } from "./manifest";
import type { StoredBackup } from "./retention";
import type { BackupStore } from "./store";

/** The backups found in a store: complete ones have a readable manifest. */

export interface CatalogEntry extends StoredBackup {
  manifest?: Manifest;
  problem?: string;
}

export async function listBackups(store: BackupStore): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  for (const id of await store.listFolders()) {
    const time = timeOfBackupId(id);
    if (!time) continue; // not ours
    const text = await store.readText(id, MANIFEST_FILE);
    if (text === undefined) {
      entries.push({ id, time, complete: false, problem: "no manifest (interrupted or still uploading)" });
      continue;
    }
    const manifest = parseManifest(id, text);
    if (manifest instanceof Error) entries.push({ id, time, complete: false, problem: manifest.message });
    else entries.push({ id, time, complete: true, manifest });
  }
  return entries.sort((a, b) => a.id.localeCompare(b.id));
}

/** `latest` or an id; the error says which backups exist. */
export async function resolveBackup(store: BackupStore, from: string): Promise<CatalogEntry> {
  const backups = await listBackups(store);
  if (from === "latest") {
    const latest = backups.filter((backup) => backup.complete).at(-1);
    if (!latest) throw new Error(`no complete backup in ${store.url}`);
    return latest;
  }
  const found = backups.find((backup) => backup.id === from);
  if (!found) {
    const known = backups.map((backup) => backup.id).slice(-5).join(", ") || "none";
    throw new Error(`backup ${from} not found in ${store.url} (latest: ${known})`);
  }
  if (!found.complete) throw new Error(`backup ${from} is not usable: ${found.problem}`);
  return found;
}
