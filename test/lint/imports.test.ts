import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The import rules of .dependency-cruiser.cjs over the whole source tree (no runtime import
 * cycle; platform and cloud SDKs only in their platform folder; the container code stand-alone),
 * and proof on small fixtures that the rules do fire.
 */

const root = resolve(__dirname, "..", "..");
const rules = require("../../.dependency-cruiser.cjs") as { forbidden: unknown[]; options: Record<string, unknown> };

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: Array<{ name: string }>;
}

async function violations(paths: string[], baseDir = root): Promise<Violation[]> {
  const { cruise } = (await import("dependency-cruiser")) as unknown as {
    cruise(files: string[], options: Record<string, unknown>, resolve?: Record<string, unknown>): Promise<{ output: { summary: { violations: Violation[] } } }>;
  };
  const previous = process.cwd();
  process.chdir(baseDir);
  try {
    const { tsConfig: _tsConfig, enhancedResolveOptions, ...options } = rules.options;
    const result = await cruise(paths, { ...options, baseDir, validate: true, ruleSet: { forbidden: rules.forbidden } }, enhancedResolveOptions as Record<string, unknown>);
    return result.output.summary.violations;
  } finally {
    process.chdir(previous);
  }
}

describe("the import rules (.dependency-cruiser.cjs)", () => {
  it("hold for the source tree: no runtime cycle, SDKs only in their platform folder, services stand-alone", async () => {
    const found = await violations(["index.ts", "config", "components", "services", "cli", "grafana", "test", "bench"]);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 120_000);

  it("catch a cycle and a platform SDK in the container code", async () => {
    const found = await violations(["cycle", "services"], resolve(__dirname, "fixtures"));
    expect(found.map((v) => v.rule.name).sort()).toEqual(["no-circular", "pulumiaws-only-in-aws", "services-stand-alone"]);
  }, 60_000);
});
