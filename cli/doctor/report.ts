import { isError, type Check } from "./check";

/** The doctor's report: one line per check, the fix under every one that is not fine, a verdict. */
export function renderReport(title: string, checks: Check[], again: string): string {
  const lines = [title];
  for (const check of checks) {
    if (check.ok) {
      lines.push(`  ok    ${check.what}`);
      continue;
    }
    lines.push(`  ${check.severity === "error" ? "FAIL" : "warn"}  ${check.what}`, `        fix: ${check.fix}`);
  }
  const errors = checks.filter(isError).length;
  const warnings = checks.filter((c) => !c.ok && !isError(c)).length;
  const tail = warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"} too)` : "";
  lines.push(
    errors > 0
      ? `${errors} problem${errors === 1 ? "" : "s"} would stop the deploy${tail}. Fix ${errors === 1 ? "it" : "them"}, then run \`${again}\` again.`
      : warnings > 0
        ? `Nothing stops the deploy; ${warnings} warning${warnings === 1 ? "" : "s"} above.`
        : "Ready to deploy.",
  );
  return `${lines.join("\n")}\n`;
}
