import * as pulumi from "@pulumi/pulumi";
import {
  evaluateOffline,
  isSecretValue,
  unwrapSecrets,
  type Evaluation,
  type RecordedResource,
} from "../../cli/graph/offline";
import { PROJECT } from "../../config/load";

/**
 * The Pulumi mock harness of the unit tests. `evaluate` runs a program (usually `createStack`) under
 * fresh mocks with a given stack config and returns every registered resource; the mocks' `call`
 * throws on any invoke, so an unexpected data-source lookup fails the test instead of hanging.
 */

export { isSecretValue, unwrapSecrets };
export type { Evaluation, RecordedResource };

export interface StackConfigInput {
  stack?: string;
  /** Keys without the `mixstack:` prefix; objects are passed as Pulumi passes them (JSON text). */
  values: Record<string, unknown>;
  /** Keys (without prefix) stored with `--secret`. */
  secretKeys?: string[];
}

/** Config as the Pulumi engine hands it to the program. */
export function pulumiConfig(input: StackConfigInput): { config: Record<string, string>; secretKeys: string[] } {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.values)) {
    config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secretKeys: (input.secretKeys ?? []).map((key) => `${PROJECT}:${key}`) };
}

export async function evaluate(
  input: StackConfigInput,
  run: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<Evaluation> {
  return evaluateOffline({ project: PROJECT, stack: input.stack ?? "test", ...pulumiConfig(input), run });
}

/** Resolves an output, or fails with a clear message instead of hanging until the test timeout. */
export function promiseOf<T>(output: pulumi.Output<T>, timeoutMs = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<T>((resolve) => output.apply((value) => {
      clearTimeout(timer);
      resolve(value);
    })),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`output never resolved within ${timeoutMs} ms (unknown in preview?)`)), timeoutMs);
    }),
  ]);
}

/** Every string in a value outside secret wrappers, with its path (for the plaintext-secret check). */
export function plainStrings(value: unknown, path = ""): Array<{ path: string; text: string }> {
  if (isSecretValue(value)) return [];
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => plainStrings(item, `${path}[${index}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => plainStrings(item, path ? `${path}.${key}` : key));
  }
  return [];
}

export function resourcesOfType(evaluation: Evaluation, type: string): RecordedResource[] {
  return evaluation.resources.filter((resource) => resource.type === type);
}

export function resourceNamed(evaluation: Evaluation, type: string, name: string): RecordedResource {
  const found = evaluation.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found) {
    const names = resourcesOfType(evaluation, type).map((r) => r.name).join(", ");
    throw new Error(`no ${type} named ${name} (have: ${names || "none"})`);
  }
  return found;
}
