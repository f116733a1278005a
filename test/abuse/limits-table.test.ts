import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sectionsIn } from "../../cli/graph/deploy-docs";
import { LIMITS, limitsTable, settingDefaults } from "../../services/limits";

/** docs/limits.md's table is the code's (services/limits.ts): defaults as the services read them, each answer tested. */

const root = resolve(__dirname, "..", "..");
const defaults = settingDefaults();

describe("the limits table", () => {
  it("is what docs/limits.md shows (regenerate: npx tsx services/limits.ts)", () => {
    expect(sectionsIn(readFileSync(join(root, "docs", "limits.md"), "utf8")).limits).toBe(limitsTable());
  });

  it.each(LIMITS.filter((limit) => limit.setting).map((limit) => [limit.setting!, limit] as const))("%s defaults to what the table says", (setting, limit) => {
    expect(setting in defaults, `${setting} is a setting of ${limit.service}`).toBe(true);
    expect(defaults[setting]).toEqual(limit.value);
  });

  it.each(LIMITS.map((limit) => [limit.what, limit] as const))("the answer to %s has a test", (_what, limit) => {
    const [file, shows] = limit.test;
    expect(existsSync(join(root, file)), file).toBe(true);
    expect(readFileSync(join(root, file), "utf8"), `${file} shows the answer`).toContain(shows);
  });

  it("each setting is named on its service's page", () => {
    for (const limit of LIMITS.filter((candidate) => candidate.setting)) {
      const page = readFileSync(join(root, "docs", `${limit.service}.md`), "utf8");
      expect(page, `docs/${limit.service}.md`).toContain(`\`${limit.setting}\``);
    }
  });
});
