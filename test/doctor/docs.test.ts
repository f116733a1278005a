import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { doctor } from "../../cli/doctor/command";
import { devMachine, emptyHome, ScriptedTools } from "./machines";

/**
 * The `mixstack doctor` output the docs show (`<!-- doctor: STACK -->` blocks) is what the current
 * checks print on this project's development machine (replayed: test/doctor/machines.ts), and every
 * line that is not `ok` says what to do.
 */

const root = resolve(__dirname, "..", "..");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? markdownFiles(path) : entry.endsWith(".md") ? [path] : [];
  });
}

const blocks = markdownFiles(join(root, "docs")).flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(/<!-- doctor: (\S+) -->\n```\n([\s\S]*?)```\n<!-- end: doctor -->/g)].map((m) => ({ file: file.slice(root.length + 1), stack: m[1]!, text: m[2]! })),
);

describe("doctor output in the docs", () => {
  it("shows all four example stacks", () => {
    expect(blocks.map((b) => b.stack).sort()).toEqual(["aws-example", "gcp-example", "local", "remote"]);
  });

  it.each(blocks)("$file, stack $stack: is what the doctor prints there, every problem with its fix", async ({ stack, text }) => {
    const home = emptyHome();
    const out: string[] = [];
    await doctor(["--stack", stack], { root, tools: new ScriptedTools(devMachine), env: { HOME: home }, nodeVersion: "20.20.2", home, out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(text).toBe(out.join(""));
    const lines = text.split("\n");
    expect(lines.filter((line, i) => /^ {2}(FAIL|warn) /.test(line) && !/^ {8}fix: \S/.test(lines[i + 1] ?? ""))).toEqual([]);
  });
});
