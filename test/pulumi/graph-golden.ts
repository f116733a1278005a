import { isDeepStrictEqual } from "node:util";
import type { GraphEntry } from "../../cli/graph/render";

/**
 * Compares two `mixstack graph --json` outputs the way a `pulumi up` from one to the other would
 * treat each resource. The engine matches resources by URN (type, name, parents' types), or by an
 * alias naming the old URN: a resource found by neither is deleted and created again (replaced).
 * A matched resource whose inputs differ is updated or replaced, depending on the provider; this
 * comparison is stricter than "no replacement" and reports every input and option change, since a
 * refactoring must not change what is deployed at all.
 *
 * The golden files in test/pulumi/golden/ are the graphs of the example stacks before the
 * redesign of issue 13, captured with `npx mixstack graph --stack NAME --json`. A deliberate
 * change of the deployed resources re-captures them in the same commit, saying why.
 */

export interface GraphChange {
  kind: "replaced" | "changed" | "created";
  urn: string;
  detail: string;
}

export function graphChanges(before: readonly GraphEntry[], after: readonly GraphEntry[]): GraphChange[] {
  const changes: GraphChange[] = [];
  const matched = new Set<GraphEntry>();
  for (const old of before) {
    const now = after.find((entry) => entry.urn === old.urn) ?? after.find((entry) => (entry.options?.aliases ?? []).includes(old.urn));
    if (!now) {
      changes.push({ kind: "replaced", urn: old.urn, detail: "no resource has this URN or an alias to it (type, name or a parent's type changed)" });
      continue;
    }
    matched.add(now);
    const inputs = changedKeys(old.inputs, now.inputs);
    if (inputs.length > 0) changes.push({ kind: "changed", urn: old.urn, detail: `inputs ${inputs.join(", ")}` });
    const options = changedKeys(comparableOptions(old), comparableOptions(now));
    if (options.length > 0) changes.push({ kind: "changed", urn: old.urn, detail: `options ${options.join(", ")}` });
  }
  for (const entry of after) {
    if (!matched.has(entry)) changes.push({ kind: "created", urn: entry.urn, detail: `new ${entry.type}` });
  }
  return changes;
}

/** Options that change what the engine does; `dependsOn` as a set (its order means nothing). */
function comparableOptions(entry: GraphEntry): Record<string, unknown> {
  const { aliases: _aliases, dependsOn, ...rest } = entry.options ?? {};
  return { ...rest, ...(dependsOn && { dependsOn: [...new Set(dependsOn)].sort() }) };
}

/** Top-level keys whose values differ (deeply). */
function changedKeys(before: unknown, after: unknown): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort();
}
