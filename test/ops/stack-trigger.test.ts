import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseBackupJob } from "../../cli/stack/backup-job";
import type { TriggerClients } from "../../components/platforms";
import type { CloudRunJobs, ExecutionResult } from "../../components/gcp/trigger";
import { automationStackOutputs, type StackOutputs } from "../../cli/stack/outputs";
import { takeStackOption, triggerOnStack, type StackTriggerDeps } from "../../cli/stack/trigger";
import { runMixstack } from "./fixtures";

/**
 * `--stack NAME`: the call shapes on each platform, with the Automation API behind a fake,
 * aws-sdk-client-mock for ECS and CloudWatch Logs, and a fake Cloud Run jobs client.
 */

const jobs = {
  docker: { platform: "docker", dockerHost: "ssh://ops@analytics.example", network: "mixstack-prod", container: "mixstack-prod-backup" },
  dockerLocal: { platform: "docker", dockerHost: "", network: "mixstack-dev", container: "mixstack-dev-backup" },
  aws: {
    platform: "aws",
    region: "eu-west-1",
    cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/mixstack-prod",
    taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/mixstack-prod-backup:7",
    containerName: "backup",
    subnets: ["subnet-a", "subnet-b"],
    securityGroups: ["sg-backup"],
    logGroup: "/mixstack/prod",
    logStreamPrefix: "backup",
  },
  gcp: { platform: "gcp", project: "acme-analytics", region: "europe-west1", job: "mixstack-prod-backup" },
} as const;

function fakeOutputs(outputs: Record<string, Record<string, unknown>>): StackOutputs & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async read(stack) {
      asked.push(stack);
      if (!(stack in outputs)) throw new Error(`no stack named ${stack}`);
      return outputs[stack]!;
    },
  };
}

function fakeCloudRun(execution: ExecutionResult): CloudRunJobs & { requests: unknown[] } {
  const requests: unknown[] = [];
  return {
    requests,
    async runJob(request) {
      requests.push(request);
      return [{ name: "operations/1", promise: async () => [execution] }];
    },
  };
}

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);

/** The platforms' clients, faked; `overrides` replaces one. */
function deps(overrides: Partial<TriggerClients> = {}) {
  const written: string[] = [];
  const programs: { program: string; args: string[] }[] = [];
  const regions: string[] = [];
  const cloudRun = fakeCloudRun({ name: "executions/x1", succeededCount: 1, failedCount: 0, logUri: "https://console.cloud.google.com/logs/x1" });
  const base: StackTriggerDeps = {
    outputs: fakeOutputs({ prod: { backupJob: jobs.docker }, local: { backupJob: jobs.dockerLocal }, aws: { backupJob: jobs.aws }, gcp: { backupJob: jobs.gcp } }),
    clients: {
      docker: () =>
        overrides.docker ??
        (async (program, args) => {
          programs.push({ program, args });
          return 0;
        }),
      aws: () =>
        overrides.aws ?? {
          connect: (region) => {
            regions.push(region);
            return { ecs: new ECSClient({ region }), logs: new CloudWatchLogsClient({ region }) };
          },
          wait: { pollMs: 1, timeoutMs: 10_000 },
        },
      gcp: () => overrides.gcp ?? cloudRun,
    },
    write: (text) => written.push(text),
  };
  return { deps: base, written, programs, regions, cloudRun };
}

describe("takeStackOption", () => {
  it.each([
    [["--from", "latest", "--stack", "prod"], { stack: "prod", rest: ["--from", "latest"] }],
    [["verify", "--stack=prod"], { stack: "prod", rest: ["verify"] }],
    [["--from", "latest"], { stack: undefined, rest: ["--from", "latest"] }],
  ])("%j", (argv, expected) => {
    expect(takeStackOption(argv)).toEqual(expected);
  });
  it.each([[["--stack"]], [["--stack", "--from"]], [["--stack="]]])("%j is an error", (argv) => {
    expect(takeStackOption(argv)).toBeInstanceOf(Error);
  });
});

describe("the stack's backupJob output", () => {
  it("a stack without it gets an error that says to deploy first", () => {
    expect((parseBackupJob("prod", { ingestUrl: "x" }) as Error).message).toBe("stack prod has no backupJob output: deploy it with this version of mixstack first (pulumi up)");
  });
  it("a malformed one names the field", () => {
    expect((parseBackupJob("prod", { backupJob: { ...jobs.aws, subnets: [] } }) as Error).message).toMatch(/^stack prod: backupJob\.subnets: /);
    expect((parseBackupJob("prod", { backupJob: { platform: "azure" } }) as Error).message).toMatch(/^stack prod: backupJob\.platform: /);
  });
  it("is read through the Automation API's selectStack in the project directory, values unwrapped", async () => {
    const calls: unknown[] = [];
    const outputs = automationStackOutputs("/work/project", async (args) => {
      calls.push(args);
      return { outputs: async () => ({ backupJob: { value: jobs.gcp, secret: false }, projectToken: { value: "t", secret: true } }) };
    });
    expect(await outputs.read("prod")).toEqual({ backupJob: jobs.gcp, projectToken: "t" });
    expect(calls).toEqual([{ stackName: "prod", workDir: "/work/project" }]);
  });
  it("a stack the Automation API cannot open is a clear error", async () => {
    const outputs = automationStackOutputs("/work/project", async () => {
      throw new Error("no stack named 'nope' found");
    });
    await expect(outputs.read("nope")).rejects.toThrow(/^cannot open stack nope \(is the pulumi CLI installed and logged in .*\): no stack named 'nope' found/);
  });
});

describe("--stack on Docker", () => {
  it("runs the command with docker exec in the stack's backup container on the stack's Docker host", async () => {
    const { deps: d, programs } = deps();
    expect(await triggerOnStack("prod", ["restore", "--from", "latest"], d)).toBe(0);
    expect(programs).toEqual([{ program: "docker", args: ["--host", "ssh://ops@analytics.example", "exec", "mixstack-prod-backup", "mixstack", "restore", "--from", "latest"] }]);
  });
  it("uses the local engine when the stack has no dockerHost, and passes the exit code through", async () => {
    const { deps: d, programs } = deps({ docker: async (program, args) => (programs.push({ program, args }), 3) });
    expect(await triggerOnStack("local", ["backup"], d)).toBe(3);
    expect(programs[0]!.args).toEqual(["exec", "mixstack-dev-backup", "mixstack", "backup"]);
  });
});

describe("--stack on AWS", () => {
  beforeEach(() => {
    ecs.reset();
    logs.reset();
  });
  const taskArn = "arn:aws:ecs:eu-west-1:123456789012:task/mixstack-prod/0f1e2d3c";

  it("runs one Fargate task with the command overridden, waits for it to stop, prints its logs and returns its exit code", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ taskArn, lastStatus: "PROVISIONING" }] })
      .resolvesOnce({ tasks: [{ taskArn, lastStatus: "RUNNING" }] })
      .resolves({ tasks: [{ taskArn, lastStatus: "STOPPED", containers: [{ name: "backup", exitCode: 0 }] }] });
    logs
      .on(GetLogEventsCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: "The specified log stream does not exist.", $metadata: {} }))
      .resolvesOnce({ events: [{ message: "backup 20261123T030000.000Z complete" }], nextForwardToken: "f/1" })
      .resolves({ events: [], nextForwardToken: "f/1" });
    const { deps: d, written, regions } = deps();
    expect(await triggerOnStack("aws", ["backup", "verify", "--from", "latest"], d)).toBe(0);
    expect(regions).toEqual(["eu-west-1"]);
    expect(ecs.commandCalls(RunTaskCommand).map((call) => call.args[0].input)).toEqual([
      {
        cluster: jobs.aws.cluster,
        taskDefinition: jobs.aws.taskDefinitionArn,
        launchType: "FARGATE",
        count: 1,
        startedBy: "mixstack-cli",
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-backup"], assignPublicIp: "DISABLED" } },
        overrides: { containerOverrides: [{ name: "backup", command: ["backup", "verify", "--from", "latest"] }] },
      },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand)[0]!.args[0].input).toEqual({ cluster: jobs.aws.cluster, tasks: [taskArn] });
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toEqual({
      logGroupName: "/mixstack/prod",
      logStreamName: "backup/backup/0f1e2d3c",
      startFromHead: true,
      nextToken: undefined,
    });
    expect(written.join("")).toContain("backup 20261123T030000.000Z complete\n");
    expect(written.join("")).toContain("ECS task 0f1e2d3c exited with 0");
  });

  it("a task that fails returns its exit code", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn, lastStatus: "STOPPED", containers: [{ name: "backup", exitCode: 1 }] }] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: "mixstack restore: backup x is damaged" }], nextForwardToken: "f/1" });
    const { deps: d, written } = deps();
    expect(await triggerOnStack("aws", ["restore", "--from", "x"], d)).toBe(1);
    expect(written.join("")).toContain("mixstack restore: backup x is damaged");
  });

  it("a task stopped without an exit code (e.g. image pull failed) is a failure with ECS's reason", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn, lastStatus: "STOPPED", stoppedReason: "CannotPullContainerError", containers: [{ name: "backup" }] }] });
    logs.on(GetLogEventsCommand).rejects(new ResourceNotFoundException({ message: "none", $metadata: {} }));
    const { deps: d, written } = deps();
    expect(await triggerOnStack("aws", ["backup"], d)).toBe(1);
    expect(written.join("")).toContain("stopped without an exit code: CannotPullContainerError");
  });

  it("a task ECS refuses to start is an error with ECS's reasons", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [{ arn: "arn:x", reason: "RESOURCE:ENI", detail: "no free ENI" }] });
    const { deps: d } = deps();
    await expect(triggerOnStack("aws", ["backup"], d)).rejects.toThrow(`ECS did not start the backup task in ${jobs.aws.cluster}: arn:x RESOURCE:ENI no free ENI`);
  });
});

describe("--stack on GCP", () => {
  it("runs an execution of the stack's Cloud Run job with the arguments overridden and waits for it", async () => {
    const { deps: d, cloudRun, written } = deps();
    expect(await triggerOnStack("gcp", ["restore", "--from", "latest"], d)).toBe(0);
    expect(cloudRun.requests).toEqual([
      { name: "projects/acme-analytics/locations/europe-west1/jobs/mixstack-prod-backup", overrides: { containerOverrides: [{ args: ["restore", "--from", "latest"] }] } },
    ]);
    expect(written.join("")).toContain("logs: https://console.cloud.google.com/logs/x1");
  });
  it("a failed execution returns 1", async () => {
    const cloudRun = fakeCloudRun({ name: "executions/x2", succeededCount: 0, failedCount: 1 });
    const { deps: d, written } = deps({ gcp: cloudRun });
    expect(await triggerOnStack("gcp", ["backup"], d)).toBe(1);
    expect(written.join("")).toContain("execution executions/x2 failed (1 failed, 0 cancelled)");
  });
});

describe("--stack errors", () => {
  it("an unknown stack fails before anything runs", async () => {
    const { deps: d, programs } = deps();
    await expect(triggerOnStack("staging", ["backup"], d)).rejects.toThrow("no stack named staging");
    expect(programs).toEqual([]);
  });
});

describe("`mixstack … --stack` from the command line", () => {
  it("routes to the deployed stack instead of the local env (here: no pulumi CLI, so a clear error)", async () => {
    const result = await runMixstack(["backups", "list", "--stack", "prod"], { PATH: "/usr/bin:/bin", PULUMI_HOME: "/nonexistent" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mixstack backups --stack prod: cannot open stack prod \(is the pulumi CLI installed/m);
  });
  it("`--stack` without a name is a usage error", async () => {
    const result = await runMixstack(["restore", "--from", "latest", "--stack"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("mixstack restore: --stack needs a stack name\n");
  });
  it("without --stack the local command runs and names a missing variable", async () => {
    const result = await runMixstack(["backups", "list"], { REDIS_URL: "", INFLUX_URL: "", INFLUX_BACKUP_ADDR: "", BACKUP_TARGET: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/mixstack backups list: invalid environment\n {2}REDIS_URL: .*it is not set/);
    expect(result.stderr).toMatch(/ {2}BACKUP_TARGET: .*it is not set/);
  });
});
