import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { roleWithPolicy } from "./iam";

export interface TaskScheduleArgs {
  /** EventBridge Scheduler expression, `cron(0 3 * * ? *)`. */
  expression: string;
  cluster: { arn: pulumi.Input<string> };
  taskDefinition: aws.ecs.TaskDefinition;
  /** The roles the task runs with: the only roles the scheduler may pass. */
  passRoles: pulumi.Input<string>[];
  subnetIds: pulumi.Input<string[]>;
  securityGroupId: pulumi.Input<string>;
  description: string;
}

/**
 * Runs a task definition on Fargate on a cron schedule (UTC) with EventBridge Scheduler. Its role may
 * start that task definition (any revision of its family) in that cluster and pass its two roles to
 * ECS; nothing else.
 */
export class TaskSchedule extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly schedule: aws.scheduler.Schedule;

  constructor(name: string, args: TaskScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:TaskSchedule", name, {}, opts);
    const child = { parent: this };
    const scheduler = roleWithPolicy(
      `${name}-scheduler`,
      {
        service: "scheduler.amazonaws.com",
        description: `EventBridge Scheduler: run ${name} only`,
        statements: [
          {
            Effect: "Allow",
            Action: ["ecs:RunTask"],
            Resource: pulumi.interpolate`${args.taskDefinition.arnWithoutRevision}:*`,
            Condition: { ArnEquals: { "ecs:cluster": args.cluster.arn } },
          },
          {
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: args.passRoles,
            Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
          },
        ],
      },
      child,
    );
    this.role = scheduler.role;
    this.schedule = new aws.scheduler.Schedule(
      `${name}`,
      {
        description: args.description,
        scheduleExpression: args.expression,
        scheduleExpressionTimezone: "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: args.cluster.arn,
          roleArn: this.role.arn,
          ecsParameters: {
            taskDefinitionArn: args.taskDefinition.arn,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            taskCount: 1,
            networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
          },
          // A failed start (capacity, throttling) is retried; the backup agent's own lock keeps runs apart.
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      },
      { ...child, dependsOn: [scheduler.policy] },
    );
    this.registerOutputs({ scheduleArn: this.schedule.arn });
  }
}
