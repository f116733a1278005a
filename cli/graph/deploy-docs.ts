import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configReference } from "../../config/reference";
import { mermaidFor } from "./command";
import { evaluateStack } from "./program";
import { readStackFile, stackNames } from "./stack-file";

/**
 * The generated parts of docs/deploy.md: the configuration reference and each example stack's
 * diagram, between `<!-- generated: NAME -->` and `<!-- end: NAME -->`. A test fails when the page
 * is stale; `npx tsx cli/graph/deploy-docs.ts` rewrites them.
 */
export async function generatedSections(root: string, platform = "docker"): Promise<Record<string, string>> {
  const sections: Record<string, string> =
    platform === "docker" ? { "config-reference": configReference() } : { [`${platform}-config-reference`]: platformReference(platform) };
  // Each platform's page shows the diagrams of its own example stacks.
  for (const stack of stackNames(root).filter((name) => readStackFile(name, root).config["mixstack:platform"] === platform)) {
    sections[`diagram-${stack}`] = `\`\`\`mermaid\n${mermaidFor(stack, await evaluateStack(stack, root))}\`\`\`\n`;
  }
  return sections;
}

/** The rows of the reference for one platform's section, plus the shared options only it implements. */
function platformReference(platform: string): string {
  const [header, rule, ...rows] = configReference().trimEnd().split("\n");
  const ours = rows.filter((row) => row.startsWith(`| \`mixstack:${platform}.`) || /^\| `mixstack:(queue\.managed|influxdb\.external\.url)`/.test(row));
  return `${[header, rule, ...ours].join("\n")}\n`;
}

/** The pages with generated sections, by platform. */
export const generatedPages: Record<string, string> = { docker: "deploy.md", aws: "aws.md", gcp: "gcp.md" };

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
  // One page after the other: evaluations share the process-wide Pulumi mocks.
  const rewrite = async () => {
    for (const [platform, page] of Object.entries(generatedPages)) {
      const file = join(root, "docs", page);
      const sections = await generatedSections(root, platform);
      writeFileSync(file, withSections(readFileSync(file, "utf8"), sections));
    }
  };
  rewrite().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
