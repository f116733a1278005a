import { z } from "zod";

/** GCP's `backupJob` stack output: the Cloud Run job to execute (docs/contracts.md). */
export const gcpBackupJob = z.object({ platform: z.literal("gcp"), project: z.string().min(1), region: z.string().min(1), job: z.string().min(1) });

export type GcpBackupJob = z.output<typeof gcpBackupJob>;
