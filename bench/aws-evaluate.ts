import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { evaluateStack } from "../cli/graph/program";

/**
 * How long the Pulumi program takes to evaluate the AWS example stack offline (what `mixstack graph`
 * and the unit tests pay for each evaluation; `pulumi preview` runs the same program), beside the
 * Docker `local` stack evaluated in the same run as the baseline. Runs rounds alternately until the
 * duration is spent, then prints medians, resource counts and the ratio.
 *
 *   npx tsx bench/aws-evaluate.ts --seconds 60
 */

const { values: options } = parseArgs({ options: { seconds: { type: "string", default: "60" } } });
const seconds = Number(options.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write("usage: tsx bench/aws-evaluate.ts [--seconds S]\n");
  process.exit(2);
}

const root = resolve(__dirname, "..");
const stacks = { baseline: "local", aws: "aws-example" } as const;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const samples: Record<keyof typeof stacks, number[]> = { baseline: [], aws: [] };
  const resources: Record<keyof typeof stacks, number> = { baseline: 0, aws: 0 };
  // One warm-up each: module loading is not what is measured.
  for (const stack of Object.values(stacks)) await evaluateStack(stack, root);
  const deadline = Date.now() + seconds * 1000;
  do {
    for (const [role, stack] of Object.entries(stacks) as Array<[keyof typeof stacks, string]>) {
      const started = process.hrtime.bigint();
      const evaluation = await evaluateStack(stack, root);
      samples[role].push(Number(process.hrtime.bigint() - started) / 1e6);
      resources[role] = evaluation.resources.length;
    }
  } while (Date.now() < deadline);
  const rows = (Object.keys(stacks) as Array<keyof typeof stacks>).map((role) => ({
    stack: `${stacks[role]}${role === "baseline" ? " (baseline)" : ""}`,
    resources: resources[role],
    rounds: samples[role].length,
    medianMs: Math.round(median(samples[role])),
  }));
  for (const row of rows) process.stdout.write(`${row.stack.padEnd(22)} ${String(row.resources).padStart(4)} resources  ${String(row.rounds).padStart(4)} rounds  median ${row.medianMs} ms\n`);
  process.stdout.write(`ratio aws-example / local: ${(median(samples.aws) / median(samples.baseline)).toFixed(2)}× time, ${(resources.aws / resources.baseline).toFixed(2)}× resources\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
