/**
 * What a Dockerfile makes the builder execute for the target platform. Images for another
 * architecture (AWS and GCP run linux/amd64) build on any host as long as no stage of the image runs
 * a command for the target platform: a `RUN` in such a stage executes target binaries, which on an
 * arm64 host needs QEMU registered in binfmt_misc. Stages on `$BUILDPLATFORM` run natively.
 */

export interface DockerfileStage {
  name?: string;
  /** `--platform=` of the FROM line (`$BUILDPLATFORM` for a native build stage). */
  platform?: string;
  base: string;
  runs: string[];
  copiesFrom: string[];
}

export function parseStages(dockerfile: string): DockerfileStage[] {
  const stages: DockerfileStage[] = [];
  const lines = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  for (const line of lines) {
    const from = /^FROM\s+(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stages.push({ platform: from[1], base: from[2]!, name: from[3], runs: [], copiesFrom: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue;
    if (/^RUN\s/i.test(line)) stage.runs.push(line);
    const copy = /^COPY\s+.*--from=(\S+)/i.exec(line);
    if (copy) stage.copiesFrom.push(copy[1]!);
  }
  return stages;
}

/**
 * The `RUN`s executed for the target platform when building the final image: those of the final
 * stage and of every stage it copies from or builds on, unless that stage runs on `$BUILDPLATFORM`.
 * Empty: the image cross-builds without emulation.
 */
export function targetPlatformCommands(dockerfile: string): string[] {
  const stages = parseStages(dockerfile);
  const final = stages[stages.length - 1];
  if (!final) return [];
  const used = new Set<DockerfileStage>([final]);
  const queue = [final];
  while (queue.length > 0) {
    const stage = queue.shift()!;
    const sources = [...stage.copiesFrom, stage.base].map((name) => stages.find((s) => s.name === name));
    for (const source of sources) {
      if (source && !used.has(source)) {
        used.add(source);
        queue.push(source);
      }
    }
  }
  return stages
    .filter((stage) => used.has(stage))
    .flatMap((stage) => (stage !== final && stage.platform === "$BUILDPLATFORM" ? [] : stage.runs.map((run) => `${stage.name ?? stage.base}: ${run}`)));
}
