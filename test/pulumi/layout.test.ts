import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { stackNames } from "../../cli/graph/stack-file";

/**
 * The project's layout (DESIGN.md §1–2): one Pulumi program with its stack files in `stacks/`, and
 * the import rule that keeps the topology platform-neutral: provider SDKs only in their platform's
 * folder, no Pulumi at all in the code that runs in the containers.
 */

const root = resolve(__dirname, "..", "..");

function sourceFiles(directory: string): string[] {
  return readdirSync(join(root, directory)).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry) ? [path] : [];
  });
}

/** Module specifiers a file imports or requires (static, dynamic and `import type` alike). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm)].map((m) => m[1]!);
}

const programFiles = ["index.ts", ...["components", "config", "services", "cli"].flatMap(sourceFiles)];

describe("the project layout", () => {
  it("has the top level of the design card", () => {
    const missing = ["package.json", "tsconfig.json", "Pulumi.yaml", "README.md", "stacks", "components", "config", "test", "index.ts"].filter(
      (path) => !existsSync(join(root, path)),
    );
    expect(missing).toEqual([]);
  });

  it("declares one Node.js TypeScript Pulumi program whose stack files live in stacks/", () => {
    const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    expect(project).toMatchObject({
      name: "mixstack",
      runtime: { name: "nodejs", options: { typescript: true } },
      main: "index.ts",
      stackConfigDir: "stacks",
    });
    expect(stackNames(root)).toEqual(expect.arrayContaining(["local", "remote"]));
  });

  it("is a CommonJS package (no \"type\": \"module\")", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { type?: string };
    expect(pkg.type ?? "commonjs").toBe("commonjs");
  });

  it.each([
    ["@pulumi/docker", ["components/docker/"]],
    ["@pulumi/aws", ["components/aws/"]],
    ["@pulumi/gcp", ["components/gcp/"]],
    // The image builder: each platform builds (and the clouds push) our two images.
    ["@pulumi/docker-build", ["components/docker/", "components/aws/", "components/gcp/"]],
  ])("imports %s only in %j", (sdk, folders) => {
    const offenders = programFiles.filter(
      (file) => importsOf(file).some((spec) => spec === sdk || spec.startsWith(`${sdk}/`)) && !folders.some((folder) => file.startsWith(folder)),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps every Pulumi package out of the code that runs in the containers (services/)", () => {
    const offenders = programFiles
      .filter((file) => file.startsWith("services/"))
      .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith("@pulumi/")).map((spec) => `${file}: ${spec}`));
    expect(offenders).toEqual([]);
  });

  it("keeps the stack config free of Pulumi providers (config/ reads the engine's config only)", () => {
    const offenders = programFiles
      .filter((file) => file.startsWith("config/"))
      .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith("@pulumi/") && spec !== "@pulumi/pulumi").map((spec) => `${file}: ${spec}`));
    expect(offenders).toEqual([]);
  });

  it("finds the imports it checks (the scan is not blind)", () => {
    expect(importsOf("components/docker/service.ts")).toEqual(expect.arrayContaining(["@pulumi/docker", "@pulumi/pulumi", "../topology"]));
    expect(importsOf("components/topology/build.ts")).toEqual(expect.arrayContaining(["../../config/schema", "../../config/secrets"]));
    expect(programFiles.filter((file) => file.startsWith("components/aws/")).length).toBeGreaterThan(5);
  });
});
