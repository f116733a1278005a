import { backupJobSchema, type BackupJob } from "../../components/platforms";

/** The stack's `backupJob` (docs/contracts.md, "Stack outputs"), or an Error that names the stack and what is wrong. */
export function parseBackupJob(stack: string, outputs: Record<string, unknown>): BackupJob | Error {
  if (outputs.backupJob === undefined) {
    // A stack may have no backup job on purpose (an external InfluxDB); its notices say why.
    const notices = Array.isArray(outputs.notices) ? outputs.notices.filter((n): n is string => typeof n === "string") : [];
    if ("notices" in outputs) return new Error(`stack ${stack} has no backup job${notices.length > 0 ? `: ${notices.join(" ")}` : ""}`);
    return new Error(`stack ${stack} has no backupJob output: deploy it with this version of mixstack first (pulumi up)`);
  }
  const parsed = backupJobSchema.safeParse(outputs.backupJob);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return new Error(`stack ${stack}: backupJob.${issue.path.join(".")}: ${issue.message}`);
}
