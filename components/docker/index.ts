import { definePlatform } from "../platform";
import { DockerDeployment } from "./deployment";
import { dockerBackupJob } from "./backup-job";
import { dockerSection } from "./config";
import { dockerFakes } from "./fakes";
import * as trigger from "./trigger";
import type { ProgramRunner } from "./trigger";

/** `platform: docker`: the whole stack on one Docker engine, local or over SSH (docs/deploy.md). */
export const docker = definePlatform({
  name: "docker",
  section: dockerSection,
  options: { managedQueue: false, externalInfluxdb: false },
  checks: () => [],
  // The operator gives ingest its certificate (`docker.tls`): ingest serves HTTPS itself.
  topologyOptions: (settings) => ({ serviceTls: settings.tls !== undefined, publicHttps: settings.tls !== undefined, loopbackRpc: true, trustedProxyHops: 0 }),
  deploy: (name, args, opts) => new DockerDeployment(name, args, opts),
  volumeSubstitutions: {},
  backupJob: dockerBackupJob,
  trigger: {
    client: (): ProgramRunner => trigger.spawnProgram,
    run: (job, args, run) => trigger.runOnDocker(job, args, run),
  },
  fakes: dockerFakes,
});
