import { definePlatform } from "../platform";
import { AwsDeployment } from "./deployment";
import { awsBackupJob } from "./backup-job";
import { awsConfigProblems } from "./checks";
import { awsSection } from "./config";
import { AwsFakes } from "./fakes";
import * as trigger from "./trigger";
import type { AwsClients, WaitOptions } from "./trigger";

/** How `--stack` reaches AWS: the ECS and CloudWatch Logs clients of a region, and how long to wait for the task. */
export interface AwsTriggerClient {
  connect(region: string): AwsClients;
  wait?: WaitOptions;
}

/** `platform: aws`: ECS (Fargate and one EC2 state host), ALBs, ECR, Secrets Manager, S3, EventBridge Scheduler (docs/aws.md). */
export const aws = definePlatform({
  name: "aws",
  section: awsSection,
  options: { managedQueue: true, externalInfluxdb: true },
  checks: awsConfigProblems,
  // The load balancers terminate TLS (with a certificate; aws.allowHttp serves plain HTTP).
  // The ALB appends the client's address to X-Forwarded-For: one trusted hop.
  topologyOptions: (settings) => ({ serviceTls: false, publicHttps: settings.certificateArn !== undefined, loopbackRpc: false, trustedProxyHops: 1 }),
  deploy: (name, args, opts) => new AwsDeployment(name, args, opts),
  volumeSubstitutions: {},
  backupJob: awsBackupJob,
  trigger: {
    client: (): AwsTriggerClient => ({ connect: (region) => trigger.awsClients(region) }),
    run: (job, args, client, write) => trigger.runOnAws(job, args, client.connect(job.region), { write, ...client.wait }),
  },
  fakes: () => new AwsFakes(),
});
