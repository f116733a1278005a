/**
 * One finding of `mixstack doctor` (and of the preflight of `mixstack deploy`): what was checked and,
 * when it is not fine, what to do. `error` stops a deploy; `warning` is printed and does not.
 */
export type Check =
  | { ok: true; what: string }
  | { ok: false; what: string; fix: string; severity: "error" | "warning" };

export const passed = (what: string): Check => ({ ok: true, what });
export const failed = (what: string, fix: string): Check => ({ ok: false, what, fix, severity: "error" });
export const warned = (what: string, fix: string): Check => ({ ok: false, what, fix, severity: "warning" });

export const isError = (check: Check): boolean => !check.ok && check.severity === "error";

/** First line of a tool's error output, for the message. */
export function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.trim() ?? "";
}

/** `a.b.c` version comparison (numeric parts; a missing part is 0). */
export function versionAtLeast(actual: string, minimum: string): boolean {
  const a = actual.split(".").map((part) => Number.parseInt(part, 10) || 0);
  const m = minimum.split(".").map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(a.length, m.length); i++) {
    if ((a[i] ?? 0) !== (m[i] ?? 0)) return (a[i] ?? 0) > (m[i] ?? 0);
  }
  return true;
}
