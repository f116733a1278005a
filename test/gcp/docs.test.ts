import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedSections, sectionsIn } from "../../cli/graph/deploy-docs";
import { ConfigError, parseStackConfig } from "../../config/load";
import { pulumiConfig } from "../pulumi/mocks";
import { root } from "./support";

const page = readFileSync(join(root, "docs", "gcp.md"), "utf8");

describe("docs/gcp.md", () => {
  it("shows the current GCP configuration reference and the gcp-example diagram (regenerate: npx tsx cli/graph/deploy-docs.ts)", async () => {
    const expected = await generatedSections(root, "gcp");
    expect(Object.keys(expected).sort()).toEqual(["diagram-gcp-example", "gcp-config-reference"]);
    expect(sectionsIn(page)).toEqual(expected);
  });

  it("documents the errors of config GCP cannot deploy exactly as they are reported", () => {
    const block = /```\n(invalid stack config in stacks\/Pulumi\.prod\.yaml:\n[\s\S]*?)```/.exec(page)?.[1];
    expect(block).toBeDefined();
    const documented = block!.trim().split("\n").slice(1).map((line) => line.trim());
    const raw = pulumiConfig({
      values: {
        platform: "gcp",
        gcp: { project: "acme-analytics", region: "europe-west1", zone: "us-central1-a", backupBucket: { softDeleteDays: 3 } },
        backup: { target: "s3://bucket/mixstack" },
      },
    });
    let reported: string[] = [];
    try {
      parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set() });
    } catch (error) {
      reported = (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
    }
    expect(reported).toEqual(documented);
  });
});
