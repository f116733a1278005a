import { z } from "zod";

/** AWS's `backupJob` stack output: how to run the backup task definition on its cluster (docs/contracts.md). */
export const awsBackupJob = z.object({
  platform: z.literal("aws"),
  region: z.string().min(1),
  cluster: z.string().min(1),
  taskDefinitionArn: z.string().min(1),
  containerName: z.string().min(1),
  subnets: z.array(z.string()).min(1),
  securityGroups: z.array(z.string()),
  logGroup: z.string().min(1),
  logStreamPrefix: z.string().min(1),
});

export type AwsBackupJob = z.output<typeof awsBackupJob>;
