import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { AwsBackupJob } from "./backup-job";

type AwsJob = AwsBackupJob;

// Loaded when a command runs on AWS, not when the platform's descriptor is.
const ecsSdk = () => require("@aws-sdk/client-ecs") as typeof import("@aws-sdk/client-ecs");
const logsSdk = () => require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs");

export interface AwsClients {
  ecs: Pick<ECSClient, "send">;
  logs: Pick<CloudWatchLogsClient, "send">;
}

export function awsClients(region: string): AwsClients {
  return { ecs: new (ecsSdk().ECSClient)({ region }), logs: new (logsSdk().CloudWatchLogsClient)({ region }) };
}

export interface WaitOptions {
  pollMs?: number;
  timeoutMs?: number;
  write?: (text: string) => void;
}

/**
 * AWS: one Fargate task from the backup task definition with the command overridden, followed
 * until it stops, its CloudWatch log lines printed as they arrive; the task's exit code is ours.
 */
export async function runOnAws(job: AwsJob, mixstackArgs: string[], clients: AwsClients, options: WaitOptions = {}): Promise<number> {
  const { RunTaskCommand, DescribeTasksCommand } = ecsSdk();
  const { GetLogEventsCommand, ResourceNotFoundException } = logsSdk();
  const { pollMs = 3000, timeoutMs = 6 * 3600_000, write = (text) => process.stdout.write(text) } = options;
  const started = await clients.ecs.send(
    new RunTaskCommand({
      cluster: job.cluster,
      taskDefinition: job.taskDefinitionArn,
      launchType: "FARGATE",
      count: 1,
      startedBy: "mixstack-cli",
      networkConfiguration: { awsvpcConfiguration: { subnets: job.subnets, securityGroups: job.securityGroups, assignPublicIp: "DISABLED" } },
      // The image's entrypoint is `mixstack`; the command is its arguments.
      overrides: { containerOverrides: [{ name: job.containerName, command: mixstackArgs }] },
    }),
  );
  const taskArn = started.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const reasons = (started.failures ?? []).map((failure) => `${failure.arn ?? ""} ${failure.reason ?? ""} ${failure.detail ?? ""}`.trim());
    throw new Error(`ECS did not start the backup task in ${job.cluster}: ${reasons.join("; ") || "no reason given"}`);
  }
  const taskId = taskArn.split("/").pop()!;
  write(`started ECS task ${taskId} in ${job.cluster}\n`);
  const logStreamName = `${job.logStreamPrefix}/${job.containerName}/${taskId}`;
  let nextToken: string | undefined;
  const drainLogs = async () => {
    for (;;) {
      let page;
      try {
        page = await clients.logs.send(new GetLogEventsCommand({ logGroupName: job.logGroup, logStreamName, startFromHead: true, nextToken }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === "ResourceNotFoundException") return; // not created yet
        throw error;
      }
      for (const event of page.events ?? []) write(`${event.message ?? ""}\n`);
      if (!page.nextForwardToken || page.nextForwardToken === nextToken) return;
      nextToken = page.nextForwardToken;
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await clients.ecs.send(new DescribeTasksCommand({ cluster: job.cluster, tasks: [taskArn] }));
    const task = described.tasks?.[0];
    await drainLogs();
    if (task?.lastStatus === "STOPPED") {
      const container = task.containers?.find((entry) => entry.name === job.containerName);
      if (typeof container?.exitCode === "number") {
        write(`ECS task ${taskId} exited with ${container.exitCode}\n`);
        return container.exitCode;
      }
      write(`ECS task ${taskId} stopped without an exit code: ${task.stoppedReason ?? container?.reason ?? "unknown reason"}\n`);
      return 1;
    }
    if (Date.now() > deadline) throw new Error(`ECS task ${taskId} still ${task?.lastStatus ?? "unknown"} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
