import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateStack } from "../../cli/graph/program";
import { graphEntries, type GraphEntry } from "../../cli/graph/render";
import { readStackFile } from "../../cli/graph/stack-file";
import { pinnedImages } from "../../components/topology/images";
import { parseStackConfig } from "../../config/load";
import { variantGraph } from "./golden/variants";

/**
 * The queue every platform deploys suits the worker (issue 12): `noeviction` (the queue is state:
 * an evicting policy deletes events not yet written and profiles), a `maxmemory` below the
 * container's memory where we run Valkey ourselves (so a full queue refuses writes, which ingest's
 * backpressure reads, instead of being killed), and Valkey 7 or later everywhere (the worker's
 * scripts carry the allow-oom flag). Read from the resources the program declares, under mocks.
 */

const root = resolve(__dirname, "..", "..");
const text = (graph: GraphEntry[]) => JSON.stringify(graph);

/** Our own Valkey: the command line as each platform renders it (argv, a shell line, JSON in JSON). */
function selfRunQueue(graph: GraphEntry[]): { policy: string | undefined; maxmemoryMb: number | undefined } {
  const all = text(graph);
  return {
    policy: /--maxmemory-policy\W+([a-z-]+)/.exec(all)?.[1],
    maxmemoryMb: Number(/--maxmemory\W+(\d+)mb/.exec(all)?.[1] ?? Number.NaN),
  };
}

/** The inputs of the one resource of a type. */
const inputsOf = (graph: GraphEntry[], type: string) => graph.find((entry) => entry.type === type)!.inputs as Record<string, unknown>;

const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

describe("the queue on every platform", () => {
  it("runs a pinned Valkey 7 or later where the stack runs its own", () => {
    expect(pinnedImages.queue).toMatch(/^valkey\/valkey:\d+\.\d+\.\d+$/);
    expect(major(pinnedImages.queue.split(":")[1]!)).toBeGreaterThanOrEqual(7);
  });

  // One stack after the other: evaluations share the process-wide Pulumi mocks. Queue memory 512 MB in each.
  for (const stack of ["local", "remote", "aws-example", "gcp-example"]) {
    it(`${stack}: noeviction and a maxmemory below the container's 512 MB`, async () => {
      const graph = graphEntries((await evaluateStack(stack, root)).resources);
      const queue = selfRunQueue(graph);
      expect(queue.policy).toBe("noeviction");
      expect(queue.maxmemoryMb).toBeGreaterThan(0);
      expect(queue.maxmemoryMb).toBeLessThan(512);
    });
  }

  it("aws, queue.managed: ElastiCache for Valkey >= 7 with a noeviction parameter group", async () => {
    const graph = await variantGraph("aws-managed-external", root);
    const group = inputsOf(graph, "aws:elasticache/parameterGroup:ParameterGroup");
    const replication = inputsOf(graph, "aws:elasticache/replicationGroup:ReplicationGroup");
    expect(group.parameters).toEqual([{ name: "maxmemory-policy", value: "noeviction" }]);
    expect(replication.engine).toBe("valkey");
    expect(major(String(group.family))).toBeGreaterThanOrEqual(7);
    expect(major(String(replication.engineVersion))).toBeGreaterThanOrEqual(7);
    expect(selfRunQueue(graph).policy).toBeUndefined();
  });

  it("gcp, queue.managed: Memorystore for Valkey >= 7 with noeviction", async () => {
    const graph = await variantGraph("gcp-managed-url", root);
    const instance = inputsOf(graph, "gcp:memorystore/instance:Instance");
    expect(instance.engineConfigs).toEqual({ "maxmemory-policy": "noeviction" });
    expect(String(instance.engineVersion)).toMatch(/^VALKEY_\d+/);
    expect(major(String(instance.engineVersion))).toBeGreaterThanOrEqual(7);
  });

  it.each(["6.2", "5.0"])("aws: managedQueue.engineVersion %s is refused, naming the key", (engineVersion) => {
    const file = readStackFile("aws-example", root);
    const aws = { ...(JSON.parse(file.config["mixstack:aws"]!) as object), managedQueue: { engineVersion } };
    const values = { ...file.config, "mixstack:aws": JSON.stringify(aws), "mixstack:queue": JSON.stringify({ managed: true }) };
    expect(() => parseStackConfig({ stack: "aws-example", values, secretKeys: new Set(file.secretKeys) })).toThrow(/managedQueue\.engineVersion.*Valkey 7\.2 or later/s);
  });
});
