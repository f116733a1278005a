import * as pulumi from "@pulumi/pulumi";
import { isDeepStrictEqual } from "node:util";
import { resolve } from "node:path";
import { evaluateOffline, OfflineMocks, type Evaluation, type RecordedResource } from "../../cli/graph/offline";
import { readStackFile } from "../../cli/graph/stack-file";
import { PROJECT } from "../../config/load";
import { readStackConfig } from "../../config/pulumi";
import { createStack, type Stack } from "../../components/stack";
import { pulumiConfig } from "../pulumi/mocks";

/**
 * Helpers of the issue-17 tests ("the first real `pulumi up` must succeed, and a failed one must be
 * retryable"). They evaluate the real program under Pulumi mocks like the other tests, and record
 * the resource options the shared harness does not (replaceOnChanges, replacementTrigger,
 * customTimeouts, ignoreChanges), because retrying after a failure is decided by those.
 */

export const root = resolve(__dirname, "..", "..");

/** Options that decide whether the engine replaces a resource on the next `pulumi up`. */
export interface ReplacementOptions {
  replaceOnChanges?: string[];
  /** Resolved value of the `replacementTrigger` option. */
  replacementTrigger?: unknown;
  ignoreChanges?: string[];
  customTimeouts?: pulumi.CustomTimeouts;
}

export interface DeployEvaluation extends Evaluation {
  stack: Stack;
  /** By `<type>::<name>`. */
  replacement: Map<string, ReplacementOptions>;
}

export type StackSource = { file: string } | { stack: string; values: Record<string, unknown>; secretKeys?: string[] };

export const keyOf = (resource: { type: string; name: string }) => `${resource.type}::${resource.name}`;

/**
 * Evaluates a stack (an example file, or config values) under `mocks`, recording replacement options.
 * `options` is filled while resources register, so a mock can read a resource's options in `newResource`.
 */
export async function evaluateForDeploy(
  source: StackSource,
  mocks: OfflineMocks = new OfflineMocks(),
  options: Map<string, ReplacementOptions> = new Map(),
): Promise<DeployEvaluation> {
  const { stack, config, secretKeys } =
    "file" in source
      ? { stack: source.file, ...readStackFile(source.file, root) }
      : { stack: source.stack, ...pulumiConfig({ values: source.values, secretKeys: source.secretKeys }) };
  const triggers: Array<Promise<void>> = [];
  let created: Stack | undefined;
  const evaluation = await evaluateOffline(
    {
      project: PROJECT,
      stack,
      config,
      secretKeys,
      run: () => {
        pulumi.runtime.registerStackTransformation((args) => {
          const opts = args.opts as pulumi.CustomResourceOptions;
          const recorded: ReplacementOptions = {
            ...(opts.replaceOnChanges && { replaceOnChanges: opts.replaceOnChanges }),
            ...(opts.ignoreChanges && { ignoreChanges: opts.ignoreChanges }),
            ...(opts.customTimeouts && { customTimeouts: opts.customTimeouts }),
          };
          options.set(`${args.type}::${args.name}`, recorded);
          if (opts.replacementTrigger !== undefined) {
            triggers.push(new Promise((done) => pulumi.output(opts.replacementTrigger).apply((value) => {
              recorded.replacementTrigger = value;
              done();
            })));
          }
          return undefined;
        });
        created = createStack(readStackConfig());
        return { ...created.outputs, summary: created.deployment.summary };
      },
    },
    mocks,
  );
  await Promise.all(triggers);
  return { ...evaluation, stack: created!, replacement: options };
}

export function ofType(evaluation: Evaluation, type: string): RecordedResource[] {
  return evaluation.resources.filter((resource) => resource.type === type);
}

/** Every resource `name` waits for, directly or through what it waits for (explicit `dependsOn` only). */
export function waitsFor(evaluation: Evaluation, name: string): Set<string> {
  const byName = new Map(evaluation.resources.map((resource) => [resource.name, resource]));
  const seen = new Set<string>();
  const visit = (current: string) => {
    for (const dependency of byName.get(current)?.options.dependsOn ?? []) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      visit(dependency);
    }
  };
  visit(name);
  return seen;
}

/** The children of a component (by parent name), recursively. */
function descendants(evaluation: Evaluation, parent: string): RecordedResource[] {
  const direct = evaluation.resources.filter((resource) => resource.parent === parent);
  return direct.flatMap((child) => [child, ...descendants(evaluation, child.name)]);
}

/**
 * A dependency edge counts when the resource waits for the target itself or for a component that
 * contains it (Pulumi waits for every child of a component named in `dependsOn`).
 */
export function waitsForResource(evaluation: Evaluation, name: string, target: string): boolean {
  const waited = waitsFor(evaluation, name);
  if (waited.has(target)) return true;
  return [...waited].some((component) => descendants(evaluation, component).some((child) => child.name === target || waitsFor(evaluation, child.name).has(target)));
}

/**
 * What the engine decides for a resource that exists in the previous deployment's state, per the
 * Pulumi docs of the resource options (`@pulumi/pulumi` resource.d.ts, 3.248.0):
 * - `replacementTrigger`: "the engine will diff this with the last recorded value, and trigger a
 *   replace if they are not equal";
 * - `replaceOnChanges`: "Initialization errors from previous deployments will require replacement
 *   instead of update only if `"*"` is passed" — otherwise a resource with init errors gets an
 *   update with no diff (pulumi/pulumi#1836), which for a Docker container changes nothing;
 * - otherwise a changed input replaces a Docker container (its inputs are ForceNew in the provider,
 *   kreuzwerker/terraform-provider-docker `resource_docker_container.go`), an unchanged one is kept.
 */
export type Step = "create" | "replace" | "update" | "same";

export interface Recorded {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  options: ReplacementOptions;
  initError: boolean;
}

export function planStep(old: Recorded | undefined, inputs: Record<string, unknown>, options: ReplacementOptions): Step {
  if (!old) return "create";
  if (old.initError) return options.replaceOnChanges?.includes("*") ? "replace" : "update";
  if (options.replacementTrigger !== undefined || old.options.replacementTrigger !== undefined) {
    if (!isDeepStrictEqual(options.replacementTrigger, old.options.replacementTrigger)) return "replace";
  }
  return isDeepStrictEqual(stripSecrets(inputs), stripSecrets(old.inputs)) ? "same" : "replace";
}

function stripSecrets(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}
