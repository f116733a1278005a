import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPinned } from "../../components/topology";
import { bundleServices } from "../../services/image/bundle";

const root = resolve(__dirname, "..", "..");
const run = promisify(execFile);

/** `FROM` lines of a Dockerfile: image reference and stage alias. */
function stages(dockerfile: string): Array<{ image: string; alias?: string }> {
  return [...readFileSync(join(root, dockerfile), "utf8").matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1]!,
    alias: m[2],
  }));
}

describe("the services image bundle", () => {
  const out = mkdtempSync(join(tmpdir(), "mixstack-bundle-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let inputs: string[] = [];
  beforeAll(async () => {
    inputs = Object.keys((await bundleServices(out)).metafile?.inputs ?? {});
  });

  it("runs `mixstack` from one file, without node_modules", async () => {
    const { stdout } = await run(process.execPath, [join(out, "mixstack.js"), "--help"], { cwd: out, env: { PATH: "/usr/bin:/bin" } });
    expect(stdout).toMatch(/^usage: mixstack <command> \[options\]/);
  });

  it("puts a `mixstack` launcher beside it, so `docker exec <container> mixstack ...` works", async () => {
    const { stdout } = await run("mixstack", ["--help"], { cwd: tmpdir(), env: { PATH: `${join(out, "bin")}:/usr/bin:/bin` } });
    expect(stdout).toMatch(/^usage: mixstack <command> \[options\]/);
  });

  it("carries no Pulumi SDK", () => {
    expect(readFileSync(join(out, "mixstack.js"), "utf8")).not.toMatch(/@pulumi\//);
  });

  it("carries the service code but neither the dev harness nor the operator commands", () => {
    expect(inputs).toContain("services/worker/worker.ts");
    expect(inputs.filter((input) => /^(services\/dev|cli|components|config)\//.test(input))).toEqual([]);
  });
});

describe("the root Dockerfile", () => {
  const text = readFileSync(join(root, "Dockerfile"), "utf8");
  const ignore = readFileSync(join(root, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());

  it("runs the bundle the build produces, as the unprivileged node user", () => {
    const finalStage = text.slice(text.lastIndexOf("\nFROM "));
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).toMatch(/^ENTRYPOINT \["node", "--enable-source-maps", "\/app\/mixstack\.js"\]$/m);
    expect(text).toContain("RUN npx tsx services/image/bundle.ts /out");
    expect(finalStage).toContain("COPY --from=bundle /out /app");
    expect(finalStage).toMatch(/^\s+PATH=\/app\/bin:\$PATH$/m);
  });

  it("ships influxd for portable backups and the GeoIP data", () => {
    expect(text).toContain("COPY --from=influxdb /usr/bin/influxd /usr/local/bin/influxd");
    expect(text).toMatch(/GEODATADIR=\/app\/geoip/);
    expect(text).toContain("COPY --from=bundle /src/node_modules/geoip-lite/data /app/geoip");
    expect(existsSync(join(root, "node_modules", "geoip-lite", "data"))).toBe(true);
  });

  it("keeps in the build context every file it copies", () => {
    const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied.sort()).toEqual(["package-lock.json", "package.json", "services", "tsconfig.json"]);
    expect(ignore[ignore.findIndex((l) => !l.startsWith("#") && l !== "")]).toBe("*");
    for (const path of copied) expect(ignore).toContain(`!${path}${path === "services" ? "/" : ""}`);
  });
});

const dockerfiles = ["Dockerfile", "grafana/Dockerfile"].filter((file) => existsSync(join(root, file)));

describe.each(dockerfiles)("%s", (dockerfile) => {
  it("starts from images pinned to exact versions", () => {
    const list = stages(dockerfile);
    const aliases = new Set(list.map((s) => s.alias).filter(Boolean));
    const external = list.map((s) => s.image).filter((image) => !aliases.has(image));
    expect(external.length).toBeGreaterThan(0);
    expect(external.filter((image) => !isPinned(image))).toEqual([]);
  });
});
