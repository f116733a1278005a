import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sectionsIn } from "../../cli/graph/deploy-docs";
import { reportsDocSections } from "../../cli/report/docs";
import { queryEnvironment } from "../../services/query/settings";

const page = readFileSync(join(resolve(__dirname, "..", ".."), "docs", "reports.md"), "utf8");

describe("docs/reports.md", () => {
  it("shows the limits table the code reads (regenerate: npx tsx cli/report/docs.ts)", () => {
    expect(sectionsIn(page)).toEqual(reportsDocSections());
  });

  it("documents every environment variable of mixstack query", () => {
    for (const name of Object.keys(queryEnvironment.shape)) expect(page, name).toContain(`\`${name}\``);
  });
});
