import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sectionsIn } from "../cli/graph/deploy-docs";
import { readmeSections } from "../cli/graph/readme-docs";
import { stackNames } from "../cli/graph/stack-file";

const root = resolve(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

describe("README.md", () => {
  it("shows the current shared config keys and every example stack's diagram (regenerate: npx tsx cli/graph/readme-docs.ts)", async () => {
    const expected = await readmeSections(root);
    expect(Object.keys(expected)).toEqual(["shared-config-reference", ...stackNames(root).map((stack) => `diagram-${stack}`)]);
    expect(sectionsIn(readme)).toEqual(expected);
  });

  it("names the test command that .ci/run runs", () => {
    const ci = readFileSync(join(root, ".ci", "run"), "utf8");
    expect(ci).toMatch(/^npm test$/m);
    expect(readme).toMatch(/```sh\nnpm test\n```/);
  });

  it("links only to docs pages that exist", () => {
    const links = [...readme.matchAll(/\]\((docs\/[\w-]+\.md)(#[\w-]+)?\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const link of new Set(links)) expect(() => readFileSync(join(root, link)), link).not.toThrow();
  });
});
