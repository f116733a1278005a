import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT, stackFile } from "../../config/load";
import { ENCRYPTED_PLACEHOLDER } from "../../config/secrets";

/** A stack file read the way Pulumi hands its config to the program, without decrypting anything. */
export interface StackFileConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/** Placeholder for an encrypted (`secure:`) value: `mixstack graph` never needs the passphrase. */
export const SECRET_PLACEHOLDER = ENCRYPTED_PLACEHOLDER;

export function stackNames(root: string): string[] {
  const directory = join(root, "stacks");
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

export function readStackFile(stack: string, root: string): StackFileConfig {
  const file = join(root, stackFile(stack));
  if (!existsSync(file)) {
    const known = stackNames(root);
    throw new Error(`no stack file ${stackFile(stack)} (stacks: ${known.join(", ") || "none"})`);
  }
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(document.config ?? {})) {
    // `pulumi config set key` writes `<project>:key`; a bare key belongs to the project.
    const key = rawKey.includes(":") ? rawKey : `${PROJECT}:${rawKey}`;
    const { value, secret } = withoutCiphertext(rawValue);
    if (secret) secretKeys.push(key);
    config[key] = typeof value === "string" ? value : typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return { config, secretKeys };
}

/** Replaces every `{ secure: <ciphertext> }` by the placeholder; the whole key is then a secret. */
function withoutCiphertext(value: unknown): { value: unknown; secret: boolean } {
  if (isSecure(value)) return { value: SECRET_PLACEHOLDER, secret: true };
  if (Array.isArray(value)) {
    const items = value.map(withoutCiphertext);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => [k, withoutCiphertext(v)] as const);
    return { value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])), secret: entries.some(([, v]) => v.secret) };
  }
  return { value, secret: false };
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}
