/** `s3://bucket/prefix` → its parts (the bucket and key prefix the backup task may use). */
export function parseS3Url(url: string): { bucket: string; prefix: string } | Error {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return new Error(`expected s3://bucket/prefix, got "${url}"`);
  return { bucket: match[1]!, prefix: (match[2] ?? "").replace(/\/+$/, "") };
}
