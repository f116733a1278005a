import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedSections, sectionsIn } from "../../cli/graph/deploy-docs";
import { ConfigError, parseStackConfig } from "../../config/load";
import { pulumiConfig } from "./mocks";

const root = resolve(__dirname, "..", "..");
const page = readFileSync(join(root, "docs", "deploy.md"), "utf8");

describe("docs/deploy.md", () => {
  it("shows the current configuration reference and stack diagrams (regenerate: npx tsx cli/graph/deploy-docs.ts)", async () => {
    const expected = await generatedSections(root);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(["config-reference", "diagram-local", "diagram-remote"]));
    expect(sectionsIn(page)).toEqual(expected);
  });

  it("documents config errors exactly as they are reported", () => {
    const block = /```\n(invalid stack config in stacks\/Pulumi\.prod\.yaml:\n[\s\S]*?)```/.exec(page)?.[1];
    expect(block).toBeDefined();
    const documented = block!.trim().split("\n").slice(1).map((line) => line.trim());
    const configs: Array<[Record<string, unknown>, string[]]> = [
      [{}, []],
      [{ platform: "azure" }, []],
      [{ platform: "docker", influxdb: { memoryMb: "lots" } }, []],
      [{ platform: "docker", grafana: { anonymous: true } }, []],
      [{ platform: "docker", grafanaAdminPassword: "a long enough password" }, []],
    ];
    const reported = configs.flatMap(([values, secretKeys]) => {
      const raw = pulumiConfig({ values, secretKeys });
      try {
        parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set(raw.secretKeys) });
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
      }
    });
    expect(reported).toEqual(documented);
  });
});
