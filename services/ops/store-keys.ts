/** Object keys of the bucket stores (S3, GCS): a backup is the folder `<prefix>/<id>/`. */

/** Joins a prefix and a relative key with single slashes. */
export function objectKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].filter(Boolean).join("/");
}

/** Backup folder names below `prefix` from a flat list of object keys. */
export function foldersFromKeys(prefix: string, keys: string[]): string[] {
  const start = prefix ? `${prefix}/` : "";
  const folders = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(start)) continue;
    const [folder, ...rest] = key.slice(start.length).split("/");
    if (folder && rest.length > 0) folders.add(folder);
  }
  return [...folders].sort();
}
