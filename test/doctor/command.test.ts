import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { doctor } from "../../cli/doctor/command";
import { targetPlatformCommands } from "../../cli/doctor/dockerfile";
import { bareMachine, devMachine, emptyHome, equippedMachine, homeWithAdc, ScriptedTools, type Answer } from "./machines";

/** `mixstack doctor --stack NAME` end to end over scripted CLIs: exit code, report, which CLIs it ran. */

const root = resolve(__dirname, "..", "..");
const STACKS = ["local", "remote", "aws-example", "gcp-example"];

async function run(stack: string, answer: Answer, home = emptyHome(), env: NodeJS.ProcessEnv = {}) {
  const tools = new ScriptedTools(answer);
  const out: string[] = [];
  const err: string[] = [];
  const code = await doctor(["--stack", stack], { root, tools, env: { HOME: home, ...env }, nodeVersion: "20.20.2", home, out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(""), err: err.join(""), calls: tools.calls };
}

/** Every line that is not `ok` is followed by the fix. */
function unactionable(report: string): string[] {
  const lines = report.split("\n");
  return lines.filter((line, i) => /^ {2}(FAIL|warn) /.test(line) && !/^ {8}fix: \S/.test(lines[i + 1] ?? ""));
}

describe("mixstack doctor", () => {
  it.each(STACKS)("on a machine with none of the CLIs, stack %s: exit 1, every problem with its fix", async (stack) => {
    const result = await run(stack, bareMachine);
    expect(result.code).toBe(1);
    expect(result.out).toContain("FAIL  the Pulumi CLI (`pulumi`) is not on your PATH");
    expect(result.out).toContain("FAIL  Docker (`docker`) is not on your PATH");
    expect(unactionable(result.out)).toEqual([]);
    // Nothing after a missing docker asks the engine again.
    expect(result.calls.filter((call) => call.startsWith("docker"))).toHaveLength(1);
  });

  it.each(STACKS)("on a machine with everything (x86_64), stack %s: ready", async (stack) => {
    const result = await run(stack, equippedMachine("x86_64", "linux/amd64, linux/386"), homeWithAdc());
    expect(result.out).not.toMatch(/^ {2}FAIL/m);
    expect(result.code).toBe(0);
  });

  it("checks the Docker stack's own engine (the ssh host of `remote`), not the local one", async () => {
    const result = await run("remote", equippedMachine("x86_64", "linux/amd64"));
    expect(result.calls).toContain("docker --host ssh://deploy@analytics.example.com version --format {{.Server.Version}}");
    expect(result.calls.some((call) => call.startsWith("aws") || call.startsWith("gcloud") || call.includes("buildx"))).toBe(false);
  });

  it.each(["aws-example", "gcp-example"])("on an arm64 engine without QEMU, %s: fails exactly when a Dockerfile runs amd64 commands", async (stack) => {
    const needsEmulation = ["Dockerfile", "grafana/Dockerfile"].some((file) => targetPlatformCommands(readFileSync(join(root, file), "utf8")).length > 0);
    const result = await run(stack, equippedMachine("aarch64", "linux/arm64, linux/arm/v7"), homeWithAdc());
    if (needsEmulation) {
      expect(result.out).toMatch(/FAIL {2}Dockerfile run commands for linux\/amd64/);
      expect(result.out).toContain("tonistiigi/binfmt --install amd64");
      expect(result.code).toBe(1);
    } else {
      expect(result.out).toMatch(/ok {4}the images are built for linux\/amd64 on a linux\/arm64 engine without emulation/);
      expect(result.code).toBe(0);
    }
  });

  it("an invalid stack file stops before any CLI runs, naming the key", async () => {
    const result = await run("no-such-stack", bareMachine);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/no stack file stacks\/Pulumi\.no-such-stack\.yaml/);
    expect(result.calls).toEqual([]);
  });

  it.each(STACKS)("on this project's development machine, stack %s: every problem with its fix", async (stack) => {
    const result = await run(stack, devMachine);
    expect(result.code).toBe(1);
    expect(unactionable(result.out)).toEqual([]);
  });
});
