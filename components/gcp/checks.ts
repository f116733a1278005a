import type { ConfigProblem } from "../../config/load";

/** The shared keys a GCP stack reads beyond its own section, as parsed by the base schema. */
export interface GcpCheckedConfig {
  backup: { target?: string };
}

/**
 * What GCP cannot do with otherwise valid shared config, found before anything is created: the
 * backup job is a Cloud Run job with no disk and Google credentials only, so it writes to GCS.
 */
export function gcpConfigProblems(config: GcpCheckedConfig, project: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const target = config.backup.target;
  if (target !== undefined && !/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9](\/|$)/.test(target)) {
    problems.push({
      key: `${project}:backup.target`,
      message: `the GCP backup job writes to GCS only: expected gs://bucket/prefix, or leave it unset for the stack's own bucket (got "${target}")`,
    });
  }
  return problems;
}
