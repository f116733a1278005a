import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sectionsIn } from "../../cli/graph/deploy-docs";
import { topologyFor } from "../../components/stack";
import { service } from "../../components/topology";
import { parseStackConfig } from "../../config/load";
import { LIMITS, limitsTable, settingDefaults } from "../../services/limits";
import { pulumiConfig } from "../pulumi/mocks";

/** docs/limits.md's table is the code's (services/limits.ts): defaults as the services read them, each answer tested. */

const root = resolve(__dirname, "..", "..");
const defaults = settingDefaults();

/** A value for each stack config key of the table (not a default), and the env text it must become. */
const configExamples: Record<string, [value: unknown, env: string]> = {
  "ingest.trackMaxAgeDays": [3, "3"],
  "history.since": ["2023-06-01", "2023-06-01"],
  "ingest.clientMsPerSecond": [250, "250"],
  "worker.newEventNamesPerDay": [17, "17"],
  "worker.newPropertyKeysPerDay": [23, "23"],
};

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

  it.each(LIMITS.filter((limit) => limit.config).map((limit) => [limit.config!, limit] as const))("stack config %s sets its setting in the container", (key, limit) => {
    expect(configExamples[key], `an example value for ${key} in this test`).toBeDefined();
    const [value, env] = configExamples[key]!;
    const [section, name] = key.split(".") as [string, string];
    const raw = pulumiConfig({ values: { platform: "docker", [section]: { [name]: value } } });
    const topology = topologyFor(parseStackConfig({ stack: "local", values: raw.config, secretKeys: new Set() }));
    expect(service(topology, limit.service).env[limit.setting!]).toEqual([env]);
  });
});
