/**
 * Summarises V8 .cpuprofile files (from bench/cpu-profile.cjs): the functions with the most self
 * time and the most inclusive time, as shares of the samples that were not idle.
 *
 *   npx tsx bench/profile-summary.ts /tmp/mixstack-profiles/worker-1234.cpuprofile [--top 40]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "40" } }, allowPositionals: true });
const TOP = Number(values.top);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/)?/, (match) => (match.includes("node_modules") ? "nm:" : ""));
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

for (const path of positionals) {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)!;
    const delta = profile.timeDeltas[index] ?? 0;
    if (node.callFrame.functionName === "(idle)" || node.callFrame.functionName === "(program)") return;
    busy += delta;
    self.set(label(node), (self.get(label(node)) ?? 0) + delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
    }
  });
  const show = (title: string, table: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [name, micros] of [...table].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      console.log(`${((micros / busy) * 100).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`);
    }
  };
  console.log(`${path}: ${(busy / 1e6).toFixed(2)} s busy`);
  show("self", self);
  show("inclusive", inclusive);
}
