import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configReference } from "../../config/reference";
import { mermaidFor } from "./command";
import { evaluateStack } from "./program";
import { stackNames, stackPlatform } from "./stack-file";

/**
 * The generated parts of docs/deploy.md: the configuration reference and each example stack's
 * diagram, between `<!-- generated: NAME -->` and `<!-- end: NAME -->`. A test fails when the page
 * is stale; `npx tsx cli/graph/deploy-docs.ts` rewrites them.
 */
export async function generatedSections(root: string): Promise<Record<string, string>> {
  const sections: Record<string, string> = { "config-reference": configReference() };
  // This page is the Docker target's; the clouds' diagrams are in their own pages (docs/gcp.md).
  for (const stack of stackNames(root).filter((name) => stackPlatform(name, root) === "docker")) {
    sections[`diagram-${stack}`] = `\`\`\`mermaid\n${mermaidFor(stack, await evaluateStack(stack, root))}\`\`\`\n`;
  }
  return sections;
}

export function sectionsIn(markdown: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of markdown.matchAll(/<!-- generated: ([\w-]+) -->\n([\s\S]*?)<!-- end: \1 -->/g)) found[match[1]!] = match[2]!;
  return found;
}

export function withSections(markdown: string, sections: Record<string, string>): string {
  return markdown.replace(/<!-- generated: ([\w-]+) -->\n[\s\S]*?<!-- end: \1 -->/g, (whole, name: string) =>
    sections[name] === undefined ? whole : `<!-- generated: ${name} -->\n${sections[name]}<!-- end: ${name} -->`,
  );
}

if (require.main === module) {
  const root = resolve(__dirname, "..", "..");
  const file = join(root, "docs", "deploy.md");
  generatedSections(root).then(
    (sections) => writeFileSync(file, withSections(readFileSync(file, "utf8"), sections)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
