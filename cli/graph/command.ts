import { parseArgs } from "node:util";
import { resolve } from "node:path";
import type { Command } from "../../services/core/command";
import { ConfigError } from "../../config/load";
import { evaluateStack, type StackEvaluation } from "./program";
import { graphEntries, mermaidGraph, type MermaidVolume } from "./render";
import { ecsTaskVolumes } from "./volumes-aws";

const USAGE = "usage: mixstack graph --stack NAME [--json | --mermaid]";

/** Repository root: where Pulumi.yaml and stacks/ live. */
const projectRoot = resolve(__dirname, "..", "..");

export const graphCommand: Command = {
  summary: "print a stack's resources (JSON) or service diagram (Mermaid), evaluated offline under Pulumi mocks",
  usage: `${USAGE}\n\n  --stack NAME  the stack file stacks/Pulumi.NAME.yaml\n  --json        every resource: urn, type, name, parent, inputs (secrets as "[secret]"), options (default)\n  --mermaid     services, volumes and who talks to whom`,
  async run(argv) {
    let options;
    try {
      options = parseArgs({
        args: argv,
        options: { stack: { type: "string" }, json: { type: "boolean" }, mermaid: { type: "boolean" } },
        strict: true,
      }).values;
    } catch (error) {
      process.stderr.write(`mixstack graph: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if (!options.stack || (options.json && options.mermaid)) {
      process.stderr.write(`mixstack graph: ${options.stack ? "choose one of --json and --mermaid" : "--stack is required"}\n${USAGE}\n`);
      return 2;
    }
    let evaluation: StackEvaluation;
    try {
      evaluation = await evaluateStack(options.stack, projectRoot);
    } catch (error) {
      process.stderr.write(`mixstack graph: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
      return 1;
    }
    process.stdout.write(options.mermaid ? mermaidFor(options.stack, evaluation) : `${JSON.stringify(graphEntries(evaluation.resources), null, 2)}\n`);
    return 0;
  },
};

export function mermaidFor(stackName: string, evaluation: StackEvaluation): string {
  const { stack, outputs } = evaluation;
  const summary = outputValue(evaluation, "summary") ?? stack.topology;
  const publicAddresses: Record<string, string> = {};
  for (const [service, output] of [["ingest", "ingestUrl"], ["grafana", "grafanaUrl"]] as const) {
    const url = outputs[output]?.value;
    const spec = stack.topology.services.find((s) => s.name === service);
    const publicPort = spec?.ports.find((p) => p.public)?.port;
    if (typeof url === "string" && publicPort) publicAddresses[`${service}:${publicPort}`] = url.replace(/^\w+:\/\//, "");
  }
  return mermaidGraph({
    title: `${stackName} (${platformOf(evaluation)})`,
    topology: stack.topology,
    summary: summary as Parameters<typeof mermaidGraph>[0]["summary"],
    volumes: volumesOf(evaluation),
    publicAddresses,
  });
}

function outputValue(evaluation: StackEvaluation, key: "summary"): unknown {
  return evaluation.outputs[key]?.value;
}

function platformOf(evaluation: StackEvaluation): string {
  const job = evaluation.outputs.backupJob?.value as { platform?: string } | undefined;
  return job?.platform ?? "unknown platform";
}

/** Docker containers name their volumes (named volume or host directory); GCP data disks carry their service and volume as labels. */
function volumesOf(evaluation: StackEvaluation): MermaidVolume[] {
  const volumes: MermaidVolume[] = [];
  for (const resource of evaluation.resources) {
    if (resource.type === "gcp:compute/disk:Disk") {
      const labels = (resource.inputs.labels ?? {}) as Record<string, string>;
      const spec = evaluation.stack.topology.services.find((s) => s.name === labels["mixstack-service"]);
      const volume = spec?.volumes.find((v) => v.name === labels["mixstack-volume"]);
      if (spec && volume) volumes.push({ service: spec.name, source: `disk ${String(resource.inputs.name)}`, path: volume.path });
      continue;
    }
    if (resource.type !== "docker:index/container:Container") continue;
    const labels = (resource.inputs.labels ?? []) as Array<{ label: string; value: string }>;
    const service = labels.find((l) => l.label === "mixstack.service")?.value;
    if (!service || service === "volume-owner") continue;
    for (const volume of (resource.inputs.volumes ?? []) as Array<{ volumeName?: string; hostPath?: string; containerPath: string }>) {
      volumes.push({ service, source: volume.hostPath ?? `volume ${volume.volumeName}`, path: volume.containerPath });
    }
  }
  return [...volumes, ...ecsTaskVolumes(evaluation.resources)];
}
