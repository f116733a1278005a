import { definePlatform } from "../platform";
import { GcpDeployment } from "./deployment";
import { gcpBackupJob } from "./backup-job";
import { gcpConfigProblems } from "./checks";
import { gcpSection } from "./config";
import { gcpFakes } from "./fakes";
import * as trigger from "./trigger";
import type { CloudRunJobs } from "./trigger";

/** `platform: gcp`: a Container-Optimized OS VM, Cloud Run, Artifact Registry, Secret Manager, GCS, Cloud Scheduler (docs/gcp.md). */
export const gcp = definePlatform({
  name: "gcp",
  section: gcpSection,
  options: { managedQueue: true, externalInfluxdb: true },
  checks: gcpConfigProblems,
  // Cloud Run terminates TLS.
  // Cloud Run's front end sets X-Forwarded-For to the client's address: one trusted hop.
  topologyOptions: () => ({ serviceTls: false, publicHttps: true, loopbackRpc: false, trustedProxyHops: 1 }),
  deploy: (name, args, opts) => new GcpDeployment(name, args, opts),
  // Grafana's `preferred` volume is Cloud Run's in-memory filesystem.
  volumeSubstitutions: { preferredEphemeral: true },
  backupJob: gcpBackupJob,
  trigger: {
    client: (): CloudRunJobs => trigger.cloudRunJobs(),
    run: (job, args, jobs, write) => trigger.runOnGcp(job, args, jobs, write),
  },
  fakes: gcpFakes,
});
