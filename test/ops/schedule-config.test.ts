import { describe, expect, it } from "vitest";
import { readStackConfig } from "../../config/pulumi";
import { createStack } from "../../components/stack";
import { evaluateAws, ofType, taskOf, TYPES as AWS } from "../aws/support";
import { evaluateGcp, only, TYPES as GCP } from "../gcp/support";
import { evaluate, resourcesOfType, unwrapSecrets, type Evaluation } from "../pulumi/mocks";

/**
 * The backup schedule and retention come from stack config on every platform: the Docker scheduler
 * container, EventBridge Scheduler, Cloud Scheduler. A schedule and retention unlike the defaults
 * (`0 3 * * *`, 7 daily, 4 weekly), so that a platform that ignored the config would show.
 */

const backup = { schedule: "15 1 * * 2", keepDaily: 3, keepWeekly: 9 };
const retentionEnv = { BACKUP_KEEP_DAILY: "3", BACKUP_KEEP_WEEKLY: "9" };

interface Scheduled {
  /** What runs the backup on the schedule, and when. */
  trigger: Record<string, unknown>;
  /** The env of the backup job's container. */
  env: Record<string, string>;
}

async function docker(): Promise<Scheduled> {
  const evaluation: Evaluation = await evaluate({ stack: "sched", values: { platform: "docker", backup } }, () => ({ ...createStack(readStackConfig()).outputs }));
  const container = resourcesOfType(evaluation, "docker:index/container:Container").find((resource) =>
    (resource.inputs.labels as Array<{ label: string; value: string }>).some((l) => l.label === "mixstack.service" && l.value === "backup"),
  )!;
  const envs = unwrapSecrets(container.inputs.envs) as string[];
  const env = Object.fromEntries(envs.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
  return { trigger: { command: container.inputs.command, schedule: env.BACKUP_SCHEDULE }, env };
}

async function aws(): Promise<Scheduled> {
  const evaluation = await evaluateAws({ backup });
  const schedules = ofType(evaluation, AWS.schedule);
  expect(schedules).toHaveLength(1);
  const container = taskOf(evaluation, "backup").containers.find((c) => c.name === "backup")!;
  return {
    trigger: { expression: schedules[0]!.inputs.scheduleExpression, timeZone: schedules[0]!.inputs.scheduleExpressionTimezone },
    env: Object.fromEntries(container.environment.map(({ name, value }) => [name, value])),
  };
}

async function gcp(): Promise<Scheduled> {
  const evaluation = await evaluateGcp({ backup });
  const schedule = unwrapSecrets(only(evaluation, GCP.scheduler).inputs) as { schedule: string; timeZone: string };
  const jobs = resourcesOfType(evaluation, GCP.job).map((resource) => unwrapSecrets(resource.inputs) as { labels: Record<string, string>; template: { template: { containers: Array<{ envs: Array<{ name: string; value?: string }> }> } } });
  const backupJob = jobs.find((entry) => entry.labels["mixstack-service"] === "backup")!;
  const envs = backupJob.template.template.containers[0]!.envs;
  return {
    trigger: { schedule: schedule.schedule, timeZone: schedule.timeZone },
    env: Object.fromEntries(envs.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
  };
}

describe("the backup schedule and retention from stack config", () => {
  it.each([
    { platform: "docker", evaluate: docker, trigger: { command: ["scheduler"], schedule: "15 1 * * 2" } },
    { platform: "aws", evaluate: aws, trigger: { expression: "cron(15 1 ? * 3 *)", timeZone: "UTC" } },
    { platform: "gcp", evaluate: gcp, trigger: { schedule: "15 1 * * 2", timeZone: "Etc/UTC" } },
  ])("$platform runs the backup on backup.schedule and passes backup.keepDaily/keepWeekly to it", async ({ evaluate: run, trigger }) => {
    const scheduled = await run();
    expect(scheduled.trigger).toEqual(trigger);
    expect(scheduled.env).toMatchObject(retentionEnv);
  });
});
