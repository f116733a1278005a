import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/** No dead export in the source tree (knip, configured in knip.jsonc), and proof on a fixture that knip finds one. */

const root = resolve(__dirname, "..", "..");
const run = promisify(execFile);

async function knip(directory: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(root, "node_modules", "knip", "bin", "knip.js"), "--no-progress", "--directory", directory], { cwd: directory });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("dead exports", () => {
  it("the source tree has none", async () => {
    const { code, output } = await knip(root);
    expect(output.trim()).toBe("");
    expect(code).toBe(0);
  }, 120_000);

  it("knip reports one in a fixture", async () => {
    const { code, output } = await knip(join(__dirname, "fixtures", "dead"));
    expect(code).not.toBe(0);
    expect(output).toMatch(/forgotten\s+function\s+library\.ts/);
  }, 60_000);
});
