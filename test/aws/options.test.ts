import { beforeAll, describe, expect, it } from "vitest";
import { EFS_CAVEAT } from "../../components/aws/deployment";
import { plainStrings, resourceNamed, unwrapSecrets } from "../pulumi/mocks";
import { asList, evaluateAws, groupName, ofType, rolePolicies, taskDefinitions, taskOf, TYPES, type AwsEvaluation } from "./support";

/** The options of the stack config, each evaluated under mocks as a variant of a minimal AWS stack. */

function ingressTo(evaluation: AwsEvaluation, group: string): string[] {
  return ofType(evaluation, TYPES.ingress)
    .filter((rule) => groupName(rule.inputs.securityGroupId) === group)
    .map((rule) => `${rule.inputs.cidrIpv4 ?? groupName(rule.inputs.referencedSecurityGroupId)}:${rule.inputs.fromPort}`)
    .sort();
}

function env(evaluation: AwsEvaluation, task: string, container: string): Record<string, string> {
  const definition = taskOf(evaluation, task).containers.find((c) => c.name === container)!;
  return Object.fromEntries(definition.environment.map((e) => [e.name, e.value]));
}

describe("queue.managed: ElastiCache for Valkey instead of the queue container", () => {
  let managed: AwsEvaluation;
  beforeAll(async () => {
    managed = await evaluateAws({ queue: { managed: true } });
  });

  it("creates a TLS, AUTH, encrypted, Multi-AZ replication group that never evicts", () => {
    const [group] = ofType(managed, TYPES.replicationGroup);
    expect(group!.inputs).toMatchObject({
      engine: "valkey",
      engineVersion: "8.0",
      nodeType: "cache.t4g.small",
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      snapshotRetentionLimit: 7,
      port: 6379,
    });
    expect(plainStrings(group!.inputs.authToken)).toEqual([]);
    expect(unwrapSecrets(group!.inputs.authToken)).toMatch(/^mock[0-9a-f]{28}$/);
    expect(String(group!.inputs.finalSnapshotIdentifier)).toMatch(/^mixstack-queue-final-[0-9a-f]{8}$/);
    const parameters = ofType(managed, "aws:elasticache/parameterGroup:ParameterGroup")[0]!;
    expect(parameters.inputs).toMatchObject({ family: "valkey8", parameters: [{ name: "maxmemory-policy", value: "noeviction" }] });
    const subnets = ofType(managed, "aws:elasticache/subnetGroup:SubnetGroup")[0]!;
    expect(subnets.inputs.subnetIds).toEqual(["mixstack-network-private-0-id", "mixstack-network-private-1-id"]);
  });

  it("lets only ingest, worker and backup reach it", () => {
    expect(ingressTo(managed, "mixstack-queue")).toEqual(["mixstack-backup:6379", "mixstack-ingest:6379", "mixstack-worker:6379"]);
  });

  it("runs no queue container and keeps only InfluxDB on the data volume", () => {
    expect(taskDefinitions(managed).map((t) => t.family)).not.toContain("mixstack-test-queue");
    expect(ofType(managed, TYPES.image).map((i) => i.name)).not.toContain("mixstack-images-valkey");
    expect(ofType(managed, TYPES.volume)[0]!.inputs.size).toBe(20);
  });

  it("hands the services a rediss:// URL of the primary endpoint, as a secret", () => {
    const version = resourceNamed(managed, TYPES.secretVersion, "mixstack-secrets-redis-url");
    expect(unwrapSecrets(version.inputs.secretString)).toMatch(/^rediss:\/\/:mock[0-9a-f]+@master\.mixstack-queue\.[0-9a-f]+\.eu-west-1\.cache\.amazonaws\.com:6379$/);
    expect(env(managed, "ingest", "ingest").REDIS_URL).toBeUndefined();
  });
});

describe("influxdb.external: an InfluxDB run elsewhere", () => {
  let external: AwsEvaluation;
  beforeAll(async () => {
    external = await evaluateAws(
      { influxdb: { external: { url: "https://influx.example.com:8086/" } }, influxAdminPassword: "an-admin-password-1" },
      ["influxAdminPassword"],
    );
  });

  it("deploys no InfluxDB, no backup job, no backup bucket", () => {
    expect(taskDefinitions(external).map((t) => t.family).sort()).toEqual(["grafana", "ingest", "queue", "worker"].map((s) => `mixstack-test-${s}`));
    for (const type of [TYPES.schedule, TYPES.bucket]) expect(ofType(external, type), type).toEqual([]);
    expect(ofType(external, TYPES.discovery).map((d) => d.inputs.name)).toEqual(["queue"]);
  });

  it("points the worker, Grafana and bootstrap at it", () => {
    expect(env(external, "worker", "worker").INFLUX_URL).toBe("https://influx.example.com:8086");
    expect(env(external, "worker", "bootstrap").INFLUX_URL).toBe("https://influx.example.com:8086");
    expect(env(external, "grafana", "grafana").INFLUX_URL).toBe("https://influx.example.com:8086");
  });

  it("says, in the stack outputs, that backing InfluxDB up is now its provider's job", () => {
    expect(external.outputs.notices!.value).toContainEqual(expect.stringContaining("backing up that database is its provider's job"));
    expect(external.outputs.backupJob?.value).toBeUndefined();
    // No backup job: empty, as on every platform (docs/contracts.md); the notices say why.
    expect(external.outputs.backupTarget!.value).toBe("");
  });
});

describe("vpc.id: an existing VPC", () => {
  let existing: AwsEvaluation;
  beforeAll(async () => {
    existing = await evaluateAws({
      aws: { vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-0a1", "subnet-0b1"], privateSubnetIds: ["subnet-0a2", "subnet-0b2", "subnet-0c2"] } },
    });
  });

  it("creates no network of its own", () => {
    for (const type of ["aws:ec2/vpc:Vpc", TYPES.subnet, "aws:ec2/natGateway:NatGateway", "aws:ec2/internetGateway:InternetGateway"]) {
      expect(ofType(existing, type), type).toEqual([]);
    }
  });

  it("puts load balancers in the public subnets, tasks in the private ones, state in the first private subnet's zone", () => {
    for (const lb of ofType(existing, TYPES.loadBalancer)) expect(lb.inputs.subnets).toEqual(["subnet-0a1", "subnet-0b1"]);
    expect((resourceNamed(existing, TYPES.service, "mixstack-worker").inputs.networkConfiguration as { subnets: string[] }).subnets).toEqual(["subnet-0a2", "subnet-0b2", "subnet-0c2"]);
    expect(ofType(existing, TYPES.autoScalingGroup)[0]!.inputs.vpcZoneIdentifiers).toEqual(["subnet-0a2"]);
    // The zone comes from the subnet itself (a data-source lookup).
    expect(ofType(existing, TYPES.volume)[0]!.inputs.availabilityZone).toBe("eu-west-1a");
    for (const group of ofType(existing, TYPES.securityGroup)) expect(group.inputs.vpcId, group.name).toBe("vpc-0abc");
    expect(ofType(existing, "aws:efs/mountTarget:MountTarget").map((m) => m.inputs.subnetId)).toEqual(["subnet-0a2", "subnet-0b2", "subnet-0c2"]);
  });
});

describe("stateStorage fargate-efs: the opt-in InfluxData does not support", () => {
  let efs: AwsEvaluation;
  beforeAll(async () => {
    efs = await evaluateAws({ aws: { stateStorage: "fargate-efs" } });
  });

  it("prints InfluxData's caveat", () => {
    expect(efs.outputs.notices!.value).toContain(EFS_CAVEAT);
    expect(EFS_CAVEAT).toMatch(/InfluxData does not support InfluxDB on NFS or NFS-based services such as AWS EFS/);
  });

  it("runs InfluxDB and the queue on Fargate with their data on EFS access points owned by their users", () => {
    for (const type of [TYPES.volume, TYPES.dlm, TYPES.autoScalingGroup]) expect(ofType(efs, type), type).toEqual([]);
    for (const [name, uid] of [
      ["influxdb", 1500],
      ["queue", 999],
    ] as const) {
      const task = taskOf(efs, name);
      expect(task.resource.inputs.requiresCompatibilities).toEqual(["FARGATE"]);
      const [volume] = task.resource.inputs.volumes as Array<{ efsVolumeConfiguration: { transitEncryption: string; authorizationConfig: { iam: string; accessPointId: string } } }>;
      expect(volume!.efsVolumeConfiguration).toMatchObject({ transitEncryption: "ENABLED", authorizationConfig: { iam: "ENABLED", accessPointId: `mixstack-files-${name}-data-id` } });
      const accessPoint = resourceNamed(efs, TYPES.accessPoint, `mixstack-files-${name}-data`);
      expect(accessPoint.inputs).toMatchObject({ posixUser: { uid, gid: uid }, rootDirectory: { path: `/${name}-data`, creationInfo: { ownerUid: uid, ownerGid: uid, permissions: "0750" } } });
      expect(resourceNamed(efs, TYPES.service, `mixstack-${name}`).inputs).toMatchObject({ deploymentMinimumHealthyPercent: 0, deploymentMaximumPercent: 100 });
    }
    expect(ofType(efs, TYPES.fileSystem)[0]!.options.retainOnDelete).toBe(true);
    expect(ingressTo(efs, "mixstack-files")).toEqual(["mixstack-grafana:2049", "mixstack-influxdb:2049", "mixstack-queue:2049"]);
  });

  it("lets each task mount only its own access point", () => {
    const efsPolicies = rolePolicies(efs).filter((p) => p.statements.some((s) => asList(s.Action).includes("elasticfilesystem:ClientMount")));
    expect(efsPolicies.map((p) => p.role).sort()).toEqual(["mixstack-grafana-task", "mixstack-influxdb-task", "mixstack-queue-task"]);
    const influx = efsPolicies.find((p) => p.role === "mixstack-influxdb-task")!;
    expect(influx.statements[0]!.Condition).toEqual({ StringEquals: { "elasticfilesystem:AccessPointArn": expect.stringMatching(/access-point\/mixstack-files-influxdb-data-id$/) } });
  });
});

describe("HTTP only (no certificateArn)", () => {
  let http: AwsEvaluation;
  beforeAll(async () => {
    http = await evaluateAws({});
  });

  it("opens port 80 only and forwards it, and says so", () => {
    expect(ofType(http, TYPES.listener).map((l) => [l.name, l.inputs.port, (l.inputs.defaultActions as Array<{ type: string }>)[0]!.type]).sort()).toEqual([
      ["mixstack-grafana-http", 80, "forward"],
      ["mixstack-ingest-http", 80, "forward"],
    ]);
    expect(ingressTo(http, "mixstack-ingest-alb")).toEqual(["0.0.0.0/0:80"]);
    expect(http.outputs.ingestUrl!.value).toMatch(/^http:\/\/mixstack-ingest-\d+\.eu-west-1\.elb\.amazonaws\.com$/);
    expect(http.outputs.notices!.value).toContainEqual(expect.stringContaining("plain HTTP"));
  });

  it("does not autoscale ingest when minReplicas equals maxReplicas", async () => {
    const fixed = await evaluateAws({ ingest: { minReplicas: 3, maxReplicas: 3 } });
    expect(ofType(fixed, TYPES.scalingTarget)).toEqual([]);
    expect(resourceNamed(fixed, TYPES.service, "mixstack-ingest").inputs.desiredCount).toBe(3);
  });
});

describe("backups", () => {
  it("go to a configured s3:// URL with access to that prefix only, and no bucket is created", async () => {
    const target = await evaluateAws({ backup: { target: "s3://company-backups/mixstack/prod" } });
    expect(ofType(target, TYPES.bucket)).toEqual([]);
    expect(env(target, "backup", "backup").BACKUP_TARGET).toBe("s3://company-backups/mixstack/prod");
    const policy = rolePolicies(target).find((p) => p.role === "mixstack-backup-task")!;
    expect(policy.statements.map((s) => s.Resource)).toEqual(["arn:aws:s3:::company-backups", "arn:aws:s3:::company-backups/mixstack/prod/*"]);
  });
});

describe("keepDataOnDestroy false", () => {
  it("lets destroy remove the data volume (after a final snapshot), the bucket and the file system", async () => {
    const disposable = await evaluateAws({ keepDataOnDestroy: false });
    const volume = ofType(disposable, TYPES.volume)[0]!;
    expect(volume.options.retainOnDelete).toBe(false);
    expect(volume.inputs.finalSnapshot).toBe(true);
    const bucket = ofType(disposable, TYPES.bucket)[0]!;
    expect(bucket.options.retainOnDelete).toBe(false);
    expect(bucket.inputs.forceDestroy).toBe(true);
    expect(ofType(disposable, TYPES.fileSystem)[0]!.options.retainOnDelete).toBe(false);
  });
});
