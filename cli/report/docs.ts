import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { limitsMarkdown } from "../../services/query/limits";
import { withSections } from "../graph/deploy-docs";

/** The generated sections of docs/reports.md (`npx tsx cli/report/docs.ts` rewrites them). */
export function reportsDocSections(): Record<string, string> {
  return { "query-limits": limitsMarkdown() };
}

if (require.main === module) {
  const file = join(resolve(__dirname, "..", ".."), "docs", "reports.md");
  writeFileSync(file, withSections(readFileSync(file, "utf8"), reportsDocSections()));
}
