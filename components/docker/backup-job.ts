import { z } from "zod";

/** Docker's `backupJob` stack output: the scheduler container, on the stack's engine and network (docs/contracts.md). */
export const dockerBackupJob = z.object({ platform: z.literal("docker"), dockerHost: z.string(), network: z.string(), container: z.string().min(1) });

export type DockerBackupJob = z.output<typeof dockerBackupJob>;
