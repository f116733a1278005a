import { z } from "zod";

/** The `backupJob` stack output every platform exports (docs/contracts.md, "Stack outputs"). */
export const backupJobSchema = z.discriminatedUnion("platform", [
  z.object({ platform: z.literal("docker"), dockerHost: z.string(), network: z.string(), container: z.string().min(1) }),
  z.object({
    platform: z.literal("aws"),
    region: z.string().min(1),
    cluster: z.string().min(1),
    taskDefinitionArn: z.string().min(1),
    containerName: z.string().min(1),
    subnets: z.array(z.string()).min(1),
    securityGroups: z.array(z.string()),
    logGroup: z.string().min(1),
    logStreamPrefix: z.string().min(1),
  }),
  z.object({ platform: z.literal("gcp"), project: z.string().min(1), region: z.string().min(1), job: z.string().min(1) }),
]);

export type BackupJob = z.infer<typeof backupJobSchema>;

/** The stack's `backupJob`, or an Error that names the stack and what is wrong. */
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
