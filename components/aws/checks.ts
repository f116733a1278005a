import { eventBridgeCron } from "./cron";
import { parseS3Url } from "./s3-url";
import type { ConfigProblem } from "../../config/load";

/** `mixstack graph` reads encrypted values as this placeholder (cli/graph/stack-file.ts): not a real value to check. */
const ENCRYPTED = "[secret]";

/** The shared keys an AWS stack reads, as parsed by the base schema. */
export interface AwsCheckedConfig {
  backup: { schedule: string; target?: string };
  queue: { managed: boolean };
  queuePassword?: string;
}

/**
 * What AWS cannot do with otherwise valid shared config, found before anything is created: backups
 * only reach S3 from an ECS task, EventBridge's cron cannot say everything five-field cron can, and
 * ElastiCache wants a longer AUTH token than the queue container does.
 */
export function awsConfigProblems(config: AwsCheckedConfig, project: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.backup.target) {
    const target = parseS3Url(config.backup.target);
    if (target instanceof Error) {
      problems.push({ key: `${project}:backup.target`, message: `${target.message}: AWS tasks can write backups to S3 only (or leave it unset for the stack's own bucket)` });
    }
  }
  const cron = eventBridgeCron(config.backup.schedule);
  if (cron instanceof Error) problems.push({ key: `${project}:backup.schedule`, message: `EventBridge Scheduler cannot run it: ${cron.message}` });
  const password = config.queuePassword;
  if (config.queue.managed && password !== undefined && password !== ENCRYPTED && password.length < 16) {
    problems.push({ key: `${project}:queuePassword`, message: "ElastiCache needs an AUTH token of at least 16 characters (queue.managed is true)" });
  }
  return problems;
}
