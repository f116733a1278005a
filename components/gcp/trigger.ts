import type { GcpBackupJob } from "./backup-job";

type GcpJob = GcpBackupJob;

/** An execution as the Cloud Run Admin API v2 returns it (the fields used here). */
export interface ExecutionResult {
  name?: string | null;
  succeededCount?: number | null;
  failedCount?: number | null;
  cancelledCount?: number | null;
  logUri?: string | null;
}

/** The slice of `JobsClient` used: `runJob` returns a long-running operation that ends with the execution. */
export interface CloudRunJobs {
  runJob(request: { name: string; overrides: { containerOverrides: { args: string[] }[] } }): Promise<[{ name?: string | null; promise(): Promise<[ExecutionResult, ...unknown[]]> }, ...unknown[]]>;
}

export function cloudRunJobs(): CloudRunJobs {
  // Loaded when a command runs on GCP, not when the platform's descriptor is.
  const { JobsClient } = require("@google-cloud/run") as typeof import("@google-cloud/run");
  return new JobsClient() as unknown as CloudRunJobs;
}

/**
 * GCP: an execution of the stack's Cloud Run job with its arguments overridden, awaited to the
 * end. The logs stay in Cloud Logging; the execution's log link is printed.
 */
export async function runOnGcp(job: GcpJob, mixstackArgs: string[], jobs: CloudRunJobs, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const name = `projects/${job.project}/locations/${job.region}/jobs/${job.job}`;
  const [operation] = await jobs.runJob({ name, overrides: { containerOverrides: [{ args: mixstackArgs }] } });
  write(`started an execution of ${name}; waiting for it to finish\n`);
  const [execution] = await operation.promise();
  if (execution.logUri) write(`logs: ${execution.logUri}\n`);
  const succeeded = (execution.succeededCount ?? 0) > 0 && (execution.failedCount ?? 0) === 0 && (execution.cancelledCount ?? 0) === 0;
  write(`execution ${execution.name ?? ""} ${succeeded ? "succeeded" : `failed (${execution.failedCount ?? 0} failed, ${execution.cancelledCount ?? 0} cancelled)`}\n`);
  return succeeded ? 0 : 1;
}
