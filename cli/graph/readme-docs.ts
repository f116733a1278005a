import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configReference } from "../../config/reference";
import { mermaidFor } from "./command";
import { withSections } from "./deploy-docs";
import { evaluateStack } from "./program";
import { stackNames } from "./stack-file";

/**
 * The generated parts of README.md: the config keys every platform shares, and the diagram of every
 * example stack. A test fails when the README is stale; `npx tsx cli/graph/readme-docs.ts` rewrites them.
 */
export async function readmeSections(root: string): Promise<Record<string, string>> {
  const [header, rule, ...rows] = configReference().trimEnd().split("\n");
  const shared = rows.filter((row) => !/^\| `mixstack:(docker|aws|gcp)\./.test(row));
  const sections: Record<string, string> = { "shared-config-reference": `${[header, rule, ...shared].join("\n")}\n` };
  // One stack after the other: evaluations share the process-wide Pulumi mocks.
  for (const stack of stackNames(root)) {
    sections[`diagram-${stack}`] = `\`\`\`mermaid\n${mermaidFor(stack, await evaluateStack(stack, root))}\`\`\`\n`;
  }
  return sections;
}

if (require.main === module) {
  const root = resolve(__dirname, "..", "..");
  const file = join(root, "README.md");
  readmeSections(root).then(
    (sections) => writeFileSync(file, withSections(readFileSync(file, "utf8"), sections)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
