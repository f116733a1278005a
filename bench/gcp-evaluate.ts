import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { evaluateStack } from "../cli/graph/program";

/**
 * How long the Pulumi program takes to evaluate the GCP example stack offline (what `mixstack graph`
 * and each unit-test evaluation pay; `pulumi preview` runs the same program), beside the Docker
 * `local` stack evaluated alternately in the same run as the baseline. Stops when the duration is
 * spent, then prints medians, resource counts and the ratio.
 *
 *   npx tsx bench/gcp-evaluate.ts --seconds 60
 */

const { values: options } = parseArgs({ options: { seconds: { type: "string", default: "60" } } });
const seconds = Number(options.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write("usage: tsx bench/gcp-evaluate.ts [--seconds S]\n");
  process.exit(2);
}

const root = resolve(__dirname, "..");
const stacks = { baseline: "local", gcp: "gcp-example" } as const;
type Role = keyof typeof stacks;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const samples: Record<Role, number[]> = { baseline: [], gcp: [] };
  const resources: Record<Role, number> = { baseline: 0, gcp: 0 };
  // One warm-up each: module loading is not what is measured.
  for (const stack of Object.values(stacks)) await evaluateStack(stack, root);
  const deadline = Date.now() + seconds * 1000;
  do {
    for (const role of Object.keys(stacks) as Role[]) {
      const started = process.hrtime.bigint();
      const evaluation = await evaluateStack(stacks[role], root);
      samples[role].push(Number(process.hrtime.bigint() - started) / 1e6);
      resources[role] = evaluation.resources.length;
    }
  } while (Date.now() < deadline);
  for (const role of Object.keys(stacks) as Role[]) {
    const label = `${stacks[role]}${role === "baseline" ? " (baseline)" : ""}`;
    process.stdout.write(`${label.padEnd(22)} ${String(resources[role]).padStart(4)} resources  ${String(samples[role].length).padStart(4)} rounds  median ${Math.round(median(samples[role]))} ms\n`);
  }
  process.stdout.write(`ratio gcp-example / local: ${(median(samples.gcp) / median(samples.baseline)).toFixed(2)}× time, ${(resources.gcp / resources.baseline).toFixed(2)}× resources\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
