import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedSections, sectionsIn } from "../../cli/graph/deploy-docs";
import { ConfigError, parseStackConfig } from "../../config/load";
import { pulumiConfig } from "../pulumi/mocks";
import { projectRoot } from "./support";

const page = readFileSync(join(projectRoot, "docs", "aws.md"), "utf8");

describe("docs/aws.md", () => {
  it("shows the current AWS configuration reference and the aws-example diagram (regenerate: npx tsx cli/graph/deploy-docs.ts)", async () => {
    const expected = await generatedSections(projectRoot, "aws");
    expect(Object.keys(expected).sort()).toEqual(["aws-config-reference", "diagram-aws-example"]);
    expect(sectionsIn(page)).toEqual(expected);
  });

  it("documents the errors of config AWS cannot deploy exactly as they are reported", () => {
    const block = /```\n(invalid stack config in stacks\/Pulumi\.prod\.yaml:\n[\s\S]*?)```/.exec(page)?.[1];
    expect(block).toBeDefined();
    const documented = block!.trim().split("\n").slice(1).map((line) => line.trim());
    const raw = pulumiConfig({
      values: { platform: "aws", aws: { region: "eu-west-1" }, backup: { target: "gs://bucket/mixstack", schedule: "0 3 1 * 1" }, queue: { managed: true }, queuePassword: "fifteen-chars-x" },
      secretKeys: ["queuePassword"],
    });
    let reported: string[] = [];
    try {
      parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set(raw.secretKeys) });
    } catch (error) {
      reported = (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
    }
    expect(reported).toEqual(documented);
  });
});
