import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { evaluateOffline } from "../../../cli/graph/offline";
import { graphEntries, type GraphEntry } from "../../../cli/graph/render";
import { readStackFile } from "../../../cli/graph/stack-file";
import { PROJECT } from "../../../config/load";
import { readStackConfig } from "../../../config/pulumi";
import { createStack } from "../../../components/stack";

/**
 * Stack configs beside the example stacks whose graphs are kept as golden files too: the options
 * the examples leave out (managed queue, external InfluxDB, EFS, an existing VPC, a backup URL, no
 * kept data), so that the comparison covers every translation path. Each is an example stack plus
 * overrides, merged into its objects. `npx tsx test/pulumi/golden/variants.ts` re-captures them.
 */

interface Variant {
  stack: string;
  values: Record<string, unknown>;
  /** Secrets given in the config (keys without the prefix). */
  secrets?: Record<string, string>;
}

export const variants: Record<string, Variant> = {
  "aws-managed-external": {
    stack: "aws-example",
    values: { queue: { managed: true }, influxdb: { external: { url: "https://influx.example.com:8086" } } },
    secrets: { influxAdminPassword: "an-admin-password-1", queuePassword: "a-queue-password-123" },
  },
  "aws-efs-existing-vpc": {
    stack: "aws-example",
    values: {
      aws: { stateStorage: "fargate-efs", vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-0a1", "subnet-0a2"], privateSubnetIds: ["subnet-0b1", "subnet-0b2"] } },
      backup: { target: "s3://acme-backups/mixstack" },
      keepDataOnDestroy: false,
    },
  },
  "gcp-managed-url": {
    stack: "gcp-example",
    values: { queue: { managed: true }, backup: { target: "gs://acme-backups/mixstack" }, gcp: { iapSsh: true } },
  },
  "gcp-external": {
    stack: "gcp-example",
    values: { influxdb: { external: { url: "https://influx.example.com" } }, keepDataOnDestroy: false },
    secrets: { influxAdminPassword: "an-admin-password-1" },
  },
  "local-unkept-split-addresses": {
    stack: "local",
    values: { keepDataOnDestroy: false, docker: { grafanaBindAddress: "127.0.0.1", bindAddress: "0.0.0.0", namePrefix: "acme" } },
  },
  "remote-unkept": { stack: "remote", values: { keepDataOnDestroy: false } },
};

function merged(base: unknown, override: unknown): unknown {
  if (typeof base !== "object" || base === null || typeof override !== "object" || override === null || Array.isArray(override)) return override;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) result[key] = merged(result[key], value);
  return result;
}

export async function variantGraph(name: string, root: string): Promise<GraphEntry[]> {
  const variant = variants[name]!;
  const file = readStackFile(variant.stack, root);
  const config = { ...file.config };
  const secretKeys = [...file.secretKeys];
  const set = (key: string, value: unknown) => {
    const full = `${PROJECT}:${key}`;
    const current = config[full];
    const base = current !== undefined && /^[[{]/.test(current.trim()) ? JSON.parse(current) : current;
    const next = merged(base, value);
    config[full] = typeof next === "string" ? next : JSON.stringify(next);
  };
  for (const [key, value] of Object.entries(variant.values)) set(key, value);
  for (const [key, value] of Object.entries(variant.secrets ?? {})) {
    set(key, value);
    secretKeys.push(`${PROJECT}:${key}`);
  }
  const evaluation = await evaluateOffline({
    project: PROJECT,
    stack: variant.stack,
    config,
    secretKeys,
    run: () => ({ ...createStack(readStackConfig()).outputs }),
  });
  return JSON.parse(JSON.stringify(graphEntries(evaluation.resources))) as GraphEntry[];
}

if (require.main === module) {
  const root = resolve(__dirname, "..", "..", "..");
  (async () => {
    for (const name of Object.keys(variants)) {
      writeFileSync(join(__dirname, `${name}.json`), `${JSON.stringify(await variantGraph(name, root), null, 2)}\n`);
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
