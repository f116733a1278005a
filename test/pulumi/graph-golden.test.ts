import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateStack } from "../../cli/graph/program";
import { graphEntries, type GraphEntry } from "../../cli/graph/render";
import { stackNames } from "../../cli/graph/stack-file";
import { aliasUrns, urnOf, type UrnNode } from "../../cli/graph/urns";
import { graphChanges } from "./graph-golden";
import { variantGraph, variants } from "./golden/variants";

const root = resolve(__dirname, "..", "..");
const golden = (stack: string) => JSON.parse(readFileSync(join(root, "test", "pulumi", "golden", `${stack}.json`), "utf8")) as GraphEntry[];

describe("the example stacks deploy what they deployed before the redesign (test/pulumi/golden)", () => {
  it("has a golden graph for every example stack", () => {
    expect(stackNames(root)).toEqual(["aws-example", "gcp-example", "local", "remote"]);
  });

  // One stack after the other: evaluations share the process-wide Pulumi mocks.
  for (const stack of ["local", "remote", "aws-example", "gcp-example"]) {
    it(`${stack}: every resource keeps its URN (or an alias to it), inputs and options; none is added`, async () => {
      const now = graphEntries((await evaluateStack(stack, root)).resources);
      // JSON round trip: the golden file went through it too.
      expect(graphChanges(golden(stack), JSON.parse(JSON.stringify(now)) as GraphEntry[])).toEqual([]);
    });
  }
  // The options the examples leave out (test/pulumi/golden/variants.ts).
  for (const name of Object.keys(variants)) {
    it(`${name}: every resource keeps its URN (or an alias to it), inputs and options; none is added`, async () => {
      expect(graphChanges(golden(name), await variantGraph(name, root))).toEqual([]);
    });
  }
});

describe("graphChanges", () => {
  const entry = (urn: string, inputs: Record<string, unknown> = {}, options?: GraphEntry["options"]): GraphEntry => ({
    urn,
    type: urn.split("::")[2]!.split("$").pop()!,
    name: urn.split("::")[3]!,
    parent: "p",
    inputs,
    ...(options && { options }),
  });
  const volume = "urn:pulumi:s::mixstack::mixstack:docker:Service$docker:index/volume:Volume::data";
  const renamed = "urn:pulumi:s::mixstack::mixstack:docker:Workload$docker:index/volume:Volume::data";

  it.each([
    ["nothing changed", [entry(volume, { name: "v" })], [entry(volume, { name: "v" })], []],
    ["a parent's type changed without an alias", [entry(volume)], [entry(renamed)], ["replaced", "created"]],
    ["a parent's type changed with an alias to the old URN", [entry(volume)], [entry(renamed, {}, { aliases: [volume] })], []],
    ["an input changed", [entry(volume, { name: "v" })], [entry(volume, { name: "w" })], ["changed"]],
    ["retainOnDelete was dropped", [entry(volume, {}, { retainOnDelete: true })], [entry(volume)], ["changed"]],
    ["dependsOn was reordered", [entry(volume, {}, { dependsOn: ["a", "b"] })], [entry(volume, {}, { dependsOn: ["b", "a"] })], []],
  ] as const)("%s", (_case, before, after, kinds) => {
    expect(graphChanges(before, after).map((change) => change.kind)).toEqual(kinds);
  });

  it("names the inputs that changed", () => {
    expect(graphChanges([entry(volume, { name: "v", driver: "local" })], [entry(volume, { name: "w", driver: "local" })])).toEqual([
      { kind: "changed", urn: volume, detail: "inputs name" },
    ]);
  });
});

describe("URNs and aliases as the engine forms them (cli/graph/urns.ts)", () => {
  const deployment: UrnNode = { type: "mixstack:aws:Deployment", name: "mixstack", aliases: [] };
  const urn = (node: UrnNode) => urnOf(node, "mixstack", "s");

  it("qualifies a type with every parent's type, the stack's left out", () => {
    const task: UrnNode = { type: "mixstack:aws:Task", name: "mixstack-worker", parent: deployment, aliases: [] };
    const service: UrnNode = { type: "aws:ecs/service:Service", name: "mixstack-worker", parent: task, aliases: [] };
    expect(urn(service)).toBe("urn:pulumi:s::mixstack::mixstack:aws:Deployment$mixstack:aws:Task$aws:ecs/service:Service::mixstack-worker");
  });

  it("carries a parent's alias over to its children, renaming children named after it", () => {
    const parent: UrnNode = { type: "mixstack:aws:Workload", name: "mixstack-api", parent: deployment, aliases: [{ type: "mixstack:aws:Task", name: "mixstack-ingest" }] };
    const group: UrnNode = { type: "aws:ec2/securityGroup:SecurityGroup", name: "mixstack-api-tasks", parent, aliases: [] };
    expect(aliasUrns(group, "mixstack", "s")).toEqual([
      "urn:pulumi:s::mixstack::mixstack:aws:Deployment$mixstack:aws:Task$aws:ec2/securityGroup:SecurityGroup::mixstack-ingest-tasks",
    ]);
  });

  it("takes a whole URN as an alias, and an alias to the stack as a top-level resource", () => {
    const moved: UrnNode = { type: "random:index/randomId:RandomId", name: "id", parent: deployment, aliases: [{ urn: "urn:pulumi:s::mixstack::old::id" }, { parent: "stack" }] };
    expect(aliasUrns(moved, "mixstack", "s")).toEqual(["urn:pulumi:s::mixstack::random:index/randomId:RandomId::id", "urn:pulumi:s::mixstack::old::id"]);
  });
});
