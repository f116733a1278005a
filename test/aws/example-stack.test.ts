import { beforeAll, describe, expect, it } from "vitest";
import { LOG_STREAM_PREFIX } from "../../components/aws/container";
import { LIFECYCLE_POLICY_TEXT, SECURITY_GROUP_TEXT } from "../../components/aws/descriptions";
import { DATA_MOUNT } from "../../components/aws/plan";
import { ECS_AMI } from "../../components/aws/state-host";
import { DATA_ATTRIBUTE } from "../../components/aws/user-data";
import { isSecretEnv, service } from "../../components/topology";
import { plainStrings, resourceNamed, unwrapSecrets } from "../pulumi/mocks";
import { asList, evaluateExample, groupName, ofType, rolePolicies, taskDefinitions, taskOf, TYPES, type AwsEvaluation } from "./support";

/**
 * The must-show items of issue 7 on `stacks/Pulumi.aws-example.yaml`, evaluated under Pulumi mocks
 * with the real program (`createStack`), as `mixstack graph` does.
 */

let example: AwsEvaluation;
beforeAll(async () => {
  example = await evaluateExample();
});

/** Ingress rules as `target group ← source (group or CIDR) : port`. */
function ingress() {
  return ofType(example, TYPES.ingress).map((rule) => ({
    name: rule.name,
    target: groupName(rule.inputs.securityGroupId),
    source: rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6 ?? groupName(rule.inputs.referencedSecurityGroupId),
    fromPort: rule.inputs.fromPort as number,
    toPort: rule.inputs.toPort as number,
  }));
}

function sourcesOf(target: string): Record<number, string[]> {
  const sources: Record<number, string[]> = {};
  for (const rule of ingress().filter((r) => r.target === target)) {
    expect(rule.fromPort, `${rule.name} opens a single port`).toBe(rule.toPort);
    (sources[rule.fromPort] ??= []).push(String(rule.source));
  }
  for (const list of Object.values(sources)) list.sort();
  return sources;
}

describe("security groups (aws-example)", () => {
  it("allow nothing from 0.0.0.0/0 except the load balancers' 80 and 443", () => {
    const open = ingress().filter((rule) => rule.source === "0.0.0.0/0" || rule.source === "::/0");
    expect(open.map((rule) => `${rule.target}:${rule.fromPort}-${rule.toPort}`).sort()).toEqual([
      "mixstack-grafana-alb:443-443",
      "mixstack-grafana-alb:80-80",
      "mixstack-ingest-alb:443-443",
      "mixstack-ingest-alb:80-80",
    ]);
    const albGroups = new Set(ofType(example, TYPES.loadBalancer).flatMap((lb) => (lb.inputs.securityGroups as string[]).map(groupName)));
    expect([...new Set(open.map((rule) => rule.target))].every((group) => albGroups.has(group))).toBe(true);
    // No group carries inline rules the checks above could miss.
    for (const group of ofType(example, TYPES.securityGroup)) {
      expect(group.inputs.ingress ?? [], group.name).toEqual([]);
    }
  });

  it("let InfluxDB's 8086 be reached only by worker, Grafana and backup, and 8088 only by backup", () => {
    expect(sourcesOf("mixstack-influxdb")).toEqual({ 8086: ["mixstack-backup", "mixstack-grafana", "mixstack-worker"], 8088: ["mixstack-backup"] });
  });

  it("let the queue be reached only by ingest, worker and backup", () => {
    expect(sourcesOf("mixstack-queue")).toEqual({ 6379: ["mixstack-backup", "mixstack-ingest", "mixstack-worker"] });
  });

  it("let the public services be reached only from their own load balancer", () => {
    expect(sourcesOf("mixstack-ingest")).toEqual({ 8080: ["mixstack-ingest-alb"] });
    expect(sourcesOf("mixstack-grafana")).toEqual({ 3000: ["mixstack-grafana-alb"] });
    expect(sourcesOf("mixstack-worker")).toEqual({});
    expect(sourcesOf("mixstack-backup")).toEqual({});
  });

  it("keep ingest's and the worker's metrics port (9464) private: mapped in the task, forwarded by no load balancer, opened by no rule", () => {
    for (const name of ["ingest", "worker"]) {
      const container = taskOf(example, name).containers.find((c) => c.name === name)!;
      expect(container.portMappings.map((p) => p.containerPort), name).toContain(9464);
      expect(sourcesOf(`mixstack-${name}`)[9464], name).toBeUndefined();
    }
    expect(ofType(example, TYPES.targetGroup).map((group) => group.inputs.port).sort()).toEqual([3000, 8080]);
    const forwarded = ofType(example, TYPES.service).flatMap((s) => ((s.inputs.loadBalancers ?? []) as Array<{ containerPort: number }>).map((lb) => lb.containerPort));
    expect(forwarded.sort()).toEqual([3000, 8080]);
  });

  it("carry only descriptions the EC2 API accepts (it refuses them at deploy time, not in preview)", () => {
    const described = [...ofType(example, TYPES.securityGroup), ...ofType(example, TYPES.ingress), ...ofType(example, TYPES.egress)];
    expect(described.length).toBeGreaterThan(30);
    for (const resource of described) expect(String(resource.inputs.description ?? ""), resource.name).toMatch(SECURITY_GROUP_TEXT);
    for (const policy of ofType(example, TYPES.dlm)) expect(String(policy.inputs.description), policy.name).toMatch(LIFECYCLE_POLICY_TEXT);
    expect(resourceNamed(example, TYPES.ingress, "mixstack-worker-to-influxdb-8086").inputs.description).toBe("bootstrap to influxdb:8086; worker to influxdb:8086");
  });

  it("give no task a public address and put no load balancer in front of a stateful service", () => {
    for (const ecsService of ofType(example, TYPES.service)) {
      expect((ecsService.inputs.networkConfiguration as { assignPublicIp: boolean }).assignPublicIp, ecsService.name).toBe(false);
      const balanced = ((ecsService.inputs.loadBalancers ?? []) as Array<{ containerName: string }>).map((lb) => lb.containerName);
      for (const name of balanced) expect(service(example.stack.topology, name as never).kind).toBe("stateless");
    }
    const schedule = ofType(example, TYPES.schedule)[0]!;
    expect((schedule.inputs.target as { ecsParameters: { networkConfiguration: { assignPublicIp: boolean } } }).ecsParameters.networkConfiguration.assignPublicIp).toBe(false);
  });
});

describe("state on the persistent EBS volume (aws-example)", () => {
  it("mounts InfluxDB's and the queue's data paths from directories on the data volume's mount", () => {
    for (const [name, path] of [
      ["influxdb", "/var/lib/influxdb"],
      ["queue", "/data"],
    ] as const) {
      const task = taskOf(example, name);
      const volumes = task.resource.inputs.volumes as Array<{ name: string; hostPath?: string; efsVolumeConfiguration?: unknown }>;
      const mount = task.containers.find((c) => c.name === name)!.mountPoints.find((m) => m.containerPath === path)!;
      const volume = volumes.find((v) => v.name === mount.sourceVolume)!;
      expect(volume.hostPath).toBe(`${DATA_MOUNT}/${name}-data`);
      expect(volume.efsVolumeConfiguration).toBeUndefined();
      expect(task.resource.inputs.requiresCompatibilities).toEqual(["EC2"]);
      // Placed only on an instance whose boot script mounted the volume.
      expect(task.resource.inputs.placementConstraints).toEqual([{ type: "memberOf", expression: `attribute:${DATA_ATTRIBUTE} == mounted` }]);
    }
  });

  it("attaches that very volume at boot and hands each directory to the uid/gid of its service", () => {
    const template = ofType(example, TYPES.launchTemplate)[0]!;
    const script = Buffer.from(String(template.inputs.userData), "base64").toString("utf8");
    const volume = ofType(example, TYPES.volume)[0]!;
    expect(script).toContain(`VOLUME_ID='${volume.name}-id'`);
    expect(script).toContain(`MOUNT='${DATA_MOUNT}'`);
    expect(script).toContain(`prepare_directory '${DATA_MOUNT}/influxdb-data' 1500 1500`);
    expect(script).toContain(`prepare_directory '${DATA_MOUNT}/queue-data' 999 999`);
    expect(template.inputs.imageId).toBe(ECS_AMI);
    expect(template.inputs.metadataOptions).toMatchObject({ httpTokens: "required" });
  });

  it("keeps the volume in the state instance's availability zone, encrypted gp3, sized for both services", () => {
    const volume = ofType(example, TYPES.volume)[0]!;
    const group = ofType(example, TYPES.autoScalingGroup)[0]!;
    const subnets = (group.inputs.vpcZoneIdentifiers as string[]).map((id) => resourceNamed(example, TYPES.subnet, id.replace(/-id$/, "")));
    expect(subnets).toHaveLength(1);
    expect(volume.inputs.availabilityZone).toBe(subnets[0]!.inputs.availabilityZone);
    expect(volume.inputs).toMatchObject({ type: "gp3", encrypted: true, size: 50 + 5, iops: 3000, throughput: 125 });
    expect(group.inputs).toMatchObject({ minSize: 1, maxSize: 1, desiredCapacity: 1 });
  });

  it("is retained on destroy by default", () => {
    expect(ofType(example, TYPES.volume)[0]!.options.retainOnDelete).toBe(true);
  });

  it("has a daily snapshot policy that targets it", () => {
    const volume = ofType(example, TYPES.volume)[0]!;
    const policies = ofType(example, TYPES.dlm);
    expect(policies).toHaveLength(1);
    const details = policies[0]!.inputs.policyDetails as {
      resourceTypes: string[];
      targetTags: Record<string, string>;
      schedules: Array<{ createRule: { interval: number; intervalUnit: string; times: string }; retainRule: { count: number } }>;
    };
    expect(details.resourceTypes).toEqual(["VOLUME"]);
    for (const [tag, value] of Object.entries(details.targetTags)) expect((volume.inputs.tags as Record<string, string>)[tag]).toBe(value);
    expect(details.schedules).toEqual([expect.objectContaining({ createRule: { interval: 24, intervalUnit: "HOURS", times: "04:00" }, retainRule: { count: 14 } })]);
    expect(policies[0]!.inputs.state).toBe("ENABLED");
  });

  it("never lets two tasks write one data directory (min 0 % / max 100 %, one task)", () => {
    for (const name of ["mixstack-influxdb", "mixstack-queue"]) {
      expect(resourceNamed(example, TYPES.service, name).inputs).toMatchObject({ desiredCount: 1, deploymentMinimumHealthyPercent: 0, deploymentMaximumPercent: 100 });
    }
  });
});

describe("task definitions (aws-example)", () => {
  it("are valid: awsvpc, one essential container, sizes Fargate accepts, awslogs into the task's log group", () => {
    const logGroups = new Map(ofType(example, TYPES.logGroup).map((group) => [group.inputs.name as string, group]));
    const fargateSizes: Record<string, number[]> = { "256": [512, 1024, 2048], "512": [1024, 2048, 3072, 4096], "1024": [2048, 3072, 4096, 5120, 6144, 7168, 8192], "2048": [4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384] };
    const tasks = taskDefinitions(example);
    expect(tasks.map((t) => t.family).sort()).toEqual(["backup", "grafana", "influxdb", "ingest", "queue", "worker"].map((s) => `mixstack-aws-example-${s}`));
    for (const task of tasks) {
      const inputs = task.resource.inputs;
      expect(inputs.networkMode, task.family).toBe("awsvpc");
      expect(task.containers.filter((c) => c.essential), task.family).toHaveLength(1);
      if ((inputs.requiresCompatibilities as string[]).includes("FARGATE")) {
        expect(fargateSizes[inputs.cpu as string], `${task.family} cpu`).toContain(Number(inputs.memory));
      }
      const sum = (key: "cpu" | "memory") => task.containers.reduce((total, c) => total + c[key], 0);
      expect(sum("cpu")).toBeLessThanOrEqual(Number(inputs.cpu));
      expect(sum("memory")).toBeLessThanOrEqual(Number(inputs.memory));
      for (const container of task.containers) {
        const group = container.logConfiguration.options["awslogs-group"]!;
        expect(container.logConfiguration).toEqual({
          logDriver: "awslogs",
          options: { "awslogs-group": group, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": LOG_STREAM_PREFIX },
        });
        expect(logGroups.get(group)?.inputs.retentionInDays, group).toBe(30);
        for (const mapping of container.portMappings) expect(mapping.hostPort).toBe(mapping.containerPort);
      }
    }
  });

  it("carry each service's health check, and init containers must succeed before the main one starts", () => {
    for (const task of taskDefinitions(example)) {
      const main = task.containers.find((c) => c.essential)!;
      const spec = service(example.stack.topology, main.name as never);
      expect(main.healthCheck?.command, main.name).toEqual(spec.health ? ["CMD-SHELL", spec.health.command] : undefined);
      const inits = task.containers.filter((c) => !c.essential).map((c) => c.name);
      expect(main.dependsOn ?? [], main.name).toEqual(inits.map((containerName) => ({ containerName, condition: "SUCCESS" })));
    }
  });

  it("expose the ports their target groups forward to, health-checked on /healthz and /api/health", () => {
    const expected = { ingest: [8080, "/healthz"], grafana: [3000, "/api/health"] } as const;
    for (const [name, [containerPort, path]] of Object.entries(expected)) {
      const ecsService = resourceNamed(example, TYPES.service, `mixstack-${name}`);
      const [balancer] = ecsService.inputs.loadBalancers as Array<{ containerName: string; containerPort: number; targetGroupArn: string }>;
      const group = resourceNamed(example, TYPES.targetGroup, `mixstack-${name}`);
      expect(balancer!.containerName).toBe(name);
      expect(balancer!.containerPort).toBe(containerPort);
      expect(balancer!.targetGroupArn).toContain(`targetgroup/mixstack-${name}/`);
      expect(group.inputs).toMatchObject({ port: containerPort, protocol: "HTTP", targetType: "ip", healthCheck: { path, matcher: "200" } });
      expect(taskOf(example, name).containers.find((c) => c.name === name)!.portMappings.map((p) => p.containerPort)).toContain(containerPort);
    }
  });

  it("reference every secret by its Secrets Manager ARN and never carry it as a plain environment value", () => {
    for (const task of taskDefinitions(example)) {
      for (const container of task.containers) {
        const spec = service(example.stack.topology, container.name as never);
        const secretNames = Object.entries(spec.env).filter(([, value]) => isSecretEnv(value)).map(([name]) => name).sort();
        expect(container.secrets.map((s) => s.name), container.name).toEqual(secretNames);
        expect(container.environment.map((e) => e.name).filter((name) => secretNames.includes(name))).toEqual([]);
        for (const secret of container.secrets) {
          expect(secret.valueFrom).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:mixstack-secrets-[a-z-]+-[0-9a-f]{6}:::[0-9a-f-]+$/);
        }
      }
    }
    // No generated password appears in any plain (non-secret) input of any resource.
    const leaks = example.resources.flatMap((resource) =>
      plainStrings(resource.inputs)
        .filter(({ text }) => example.generatedSecrets.some((secret) => text.includes(secret)))
        .map(({ path }) => `${resource.type} ${resource.name} ${path}`),
    );
    expect(leaks).toEqual([]);
  });

  it("store the resolved secret values in Secrets Manager, as secrets", () => {
    const versions = ofType(example, TYPES.secretVersion);
    expect(versions).toHaveLength(ofType(example, TYPES.secret).length);
    const redisUrl = resourceNamed(example, TYPES.secretVersion, "mixstack-secrets-redis-url");
    expect(plainStrings(redisUrl.inputs.secretString)).toEqual([]);
    expect(unwrapSecrets(redisUrl.inputs.secretString)).toMatch(/^redis:\/\/:mock[0-9a-f]+@queue\.aws-example\.mixstack\.internal:6379$/);
  });

  it("run images from the stack's ECR repositories, pinned by digest", () => {
    for (const task of taskDefinitions(example)) {
      for (const container of task.containers) {
        expect(container.image, container.name).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/mixstack-aws-example\/[a-z]+@sha256:[0-9a-f]{64}$/);
      }
    }
    const builds = ofType(example, TYPES.image).map((image) => ({
      name: image.name,
      push: image.inputs.push,
      inline: (image.inputs.dockerfile as { inline?: string }).inline,
      location: (image.inputs.dockerfile as { location?: string }).location,
    }));
    expect(builds.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "mixstack-images-grafana", push: true, inline: undefined, location: "grafana/Dockerfile" },
      { name: "mixstack-images-influxdb", push: true, inline: "FROM influxdb:1.12.4\n", location: undefined },
      { name: "mixstack-images-services", push: true, inline: undefined, location: "Dockerfile" },
      { name: "mixstack-images-valkey", push: true, inline: "FROM valkey/valkey:8.1.8\n", location: undefined },
    ]);
  });
});

describe("services (aws-example)", () => {
  it("roll out with a circuit breaker that rolls back", () => {
    const services = ofType(example, TYPES.service);
    expect(services.map((s) => s.name).sort()).toEqual(["grafana", "influxdb", "ingest", "queue", "worker"].map((s) => `mixstack-${s}`));
    for (const ecsService of services) {
      expect(ecsService.inputs.deploymentCircuitBreaker, ecsService.name).toEqual({ enable: true, rollback: true });
      expect(ecsService.inputs.waitForSteadyState).toBe(true);
    }
    for (const name of ["ingest", "worker", "grafana"]) {
      expect(resourceNamed(example, TYPES.service, `mixstack-${name}`).inputs).toMatchObject({ launchType: "FARGATE", deploymentMinimumHealthyPercent: 100, deploymentMaximumPercent: 200 });
    }
  });

  it("are created in the topology's order, after their listeners, and tasks only once their roles have their policies", () => {
    const waitsFor = (type: string, name: string) => [...(resourceNamed(example, type, name).options.dependsOn ?? [])].sort();
    expect(waitsFor(TYPES.service, "mixstack-influxdb")).toEqual(["mixstack-capacity"]);
    expect(waitsFor(TYPES.service, "mixstack-queue")).toEqual(["mixstack-capacity"]);
    // The worker's bootstrap container needs InfluxDB, the worker the queue.
    expect(waitsFor(TYPES.service, "mixstack-worker")).toEqual(["mixstack-influxdb", "mixstack-queue"]);
    expect(waitsFor(TYPES.service, "mixstack-ingest")).toEqual(["mixstack-ingest-http", "mixstack-ingest-https", "mixstack-queue"]);
    expect(waitsFor(TYPES.service, "mixstack-grafana")).toEqual(["mixstack-grafana-http", "mixstack-grafana-https", "mixstack-influxdb"]);
    for (const task of taskDefinitions(example)) {
      const roles = [task.resource.inputs.executionRoleArn, task.resource.inputs.taskRoleArn].filter(Boolean).map((arn) => `${String(arn).split("/").pop()}-policy`);
      expect(task.resource.options.dependsOn?.sort(), task.family).toEqual(roles.sort());
    }
    expect(waitsFor(TYPES.launchTemplate, "mixstack-state-host")).toEqual(["mixstack-state-instance-policy"]);
    expect(waitsFor(TYPES.schedule, "mixstack-backup")).toEqual(["mixstack-backup-scheduler-policy"]);
  });

  it("autoscale ingest on CPU and on load-balancer requests between minReplicas and maxReplicas", () => {
    const [target] = ofType(example, TYPES.scalingTarget);
    expect(target!.inputs).toMatchObject({ minCapacity: 2, maxCapacity: 8, scalableDimension: "ecs:service:DesiredCount", resourceId: "service/mixstack-cluster/mixstack-ingest" });
    const metrics = ofType(example, TYPES.scalingPolicy).map((policy) => {
      const configuration = policy.inputs.targetTrackingScalingPolicyConfiguration as { targetValue: number; predefinedMetricSpecification: { predefinedMetricType: string; resourceLabel?: string } };
      return [configuration.predefinedMetricSpecification.predefinedMetricType, configuration.targetValue, configuration.predefinedMetricSpecification.resourceLabel];
    });
    expect(metrics.sort()).toEqual([
      ["ALBRequestCountPerTarget", 1000, expect.stringMatching(/^app\/mixstack-ingest\/[0-9a-f]+\/targetgroup\/mixstack-ingest\/[0-9a-f]+$/)],
      ["ECSServiceAverageCPUUtilization", 60, undefined],
    ]);
  });

  it("answer HTTPS with the configured certificate and redirect HTTP to it", () => {
    const listeners = ofType(example, TYPES.listener).map((l) => ({ name: l.name, port: l.inputs.port, protocol: l.inputs.protocol, certificateArn: l.inputs.certificateArn, action: (l.inputs.defaultActions as Array<{ type: string; redirect?: unknown }>)[0] }));
    expect(listeners.filter((l) => l.port === 443).map((l) => l.certificateArn)).toEqual([
      "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
      "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    ]);
    for (const listener of listeners.filter((l) => l.port === 80)) {
      expect(listener.action).toEqual({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } });
    }
    expect(example.outputs.ingestUrl!.value).toBe("https://events.example.com");
    expect(example.outputs.grafanaUrl!.value).toBe("https://grafana.example.com");
  });

  it("register InfluxDB and the queue under Cloud Map names every task resolves", () => {
    expect(ofType(example, TYPES.discovery).map((d) => [d.inputs.name, (d.inputs.dnsConfig as { dnsRecords: unknown }).dnsRecords])).toEqual([
      ["influxdb", [{ type: "A", ttl: 10 }]],
      ["queue", [{ type: "A", ttl: 10 }]],
    ]);
    const worker = taskOf(example, "worker").containers.find((c) => c.name === "worker")!;
    expect(worker.environment).toContainEqual({ name: "INFLUX_URL", value: "http://influxdb.aws-example.mixstack.internal:8086" });
    const backup = taskOf(example, "backup").containers.find((c) => c.name === "backup")!;
    expect(backup.environment).toContainEqual({ name: "INFLUX_BACKUP_ADDR", value: "influxdb.aws-example.mixstack.internal:8088" });
  });
});

describe("IAM (aws-example)", () => {
  it("grants no '*' action, and '*' resources only to actions that have no resource-level permissions", () => {
    const policies = rolePolicies(example);
    expect(policies.length).toBeGreaterThanOrEqual(10);
    const wildcardOk = new Set(["ecr:GetAuthorizationToken", "ecs:DiscoverPollEndpoint", "ec2:DescribeVolumes", "ec2:DescribeInstances", "ec2:DescribeSnapshots"]);
    for (const policy of policies) {
      for (const statement of policy.statements) {
        const actions = asList(statement.Action);
        const resources = asList(statement.Resource);
        expect(actions.some((action) => action === "*" || action.endsWith(":*")), `${policy.name}: ${actions.join(",")}`).toBe(false);
        if (resources.includes("*")) expect(actions.filter((action) => !wildcardOk.has(action)), policy.name).toEqual([]);
      }
    }
    for (const role of ofType(example, TYPES.role)) expect(role.inputs.managedPolicyArns ?? [], role.name).toEqual([]);
  });

  it("lets the scheduler role run only the backup task definition and pass only the backup task's roles", () => {
    const schedule = ofType(example, TYPES.schedule)[0]!;
    const target = schedule.inputs.target as { roleArn: string; arn: string; ecsParameters: { taskDefinitionArn: string; launchType: string } };
    const schedulerRole = target.roleArn.split("/").pop()!;
    const policy = rolePolicies(example).find((p) => p.role === schedulerRole)!;
    const backup = taskOf(example, "backup");
    const backupArn = `arn:aws:ecs:eu-west-1:123456789012:task-definition/${backup.family}`;
    expect(target.ecsParameters.taskDefinitionArn).toBe(`${backupArn}:1`);
    expect(policy.statements).toEqual([
      { Effect: "Allow", Action: ["ecs:RunTask"], Resource: `${backupArn}:*`, Condition: { ArnEquals: { "ecs:cluster": target.arn } } },
      {
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [backup.resource.inputs.executionRoleArn, backup.resource.inputs.taskRoleArn],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    ]);
    expect(schedule.inputs).toMatchObject({ scheduleExpression: "cron(30 2 * * ? *)", scheduleExpressionTimezone: "UTC", flexibleTimeWindow: { mode: "OFF" } });
    expect(target.ecsParameters.launchType).toBe("FARGATE");
  });

  it("gives S3 access to the backup task only, and only under the backup prefix", () => {
    const s3 = rolePolicies(example).filter((p) => p.statements.some((s) => asList(s.Action).some((a) => a.startsWith("s3:"))));
    expect(s3.map((p) => p.role)).toEqual(["mixstack-backup-task"]);
    const bucket = String(example.outputs.backupTarget!.value).replace(/^s3:\/\/([^/]+)\/.*$/, "$1");
    expect(s3[0]!.statements).toEqual([
      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": ["backups/*", "backups"] } } },
      { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket}/backups/*` },
    ]);
  });

  it("lets each execution role read only the secrets its containers use", () => {
    for (const task of taskDefinitions(example)) {
      const role = String(task.resource.inputs.executionRoleArn).split("/").pop()!;
      const granted = rolePolicies(example)
        .find((p) => p.role === role)!
        .statements.filter((s) => asList(s.Action).includes("secretsmanager:GetSecretValue"))
        .flatMap((s) => asList(s.Resource))
        .sort();
      const used = [...new Set(task.containers.flatMap((c) => c.secrets.map((s) => s.valueFrom.split(":::")[0]!)))].sort();
      expect(granted, task.family).toEqual(used);
    }
  });
});

describe("backups (aws-example)", () => {
  const bucketPart = (type: string) => ofType(example, type)[0]!.inputs;

  it("go to a bucket that blocks public access, is encrypted and versioned, and is kept on destroy", () => {
    expect(bucketPart("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(bucketPart("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(bucketPart("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration).toEqual({ status: "Enabled" });
    expect(bucketPart("aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    const bucket = ofType(example, TYPES.bucket)[0]!;
    expect(bucket.options.retainOnDelete).toBe(true);
    expect(bucket.inputs.forceDestroy).toBe(false);
    const policy = JSON.parse(String(bucketPart("aws:s3/bucketPolicy:BucketPolicy").policy)) as { Statement: Array<{ Effect: string; Condition: unknown }> };
    expect(policy.Statement).toEqual([expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]);
  });

  it("have lifecycle rules: colder storage that stays readable, expiry, and an end to old versions", () => {
    const rules = bucketPart("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules as Array<Record<string, unknown>>;
    expect(rules[0]).toEqual({
      id: "backups",
      status: "Enabled",
      filter: { prefix: "backups/" },
      transitions: [
        { days: 30, storageClass: "STANDARD_IA" },
        { days: 90, storageClass: "GLACIER_IR" },
      ],
      expiration: { days: 365 },
      noncurrentVersionExpiration: { noncurrentDays: 30 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    });
  });

  it("tell `mixstack backup --stack` exactly what to run, where and where its logs are", () => {
    const job = example.outputs.backupJob!.value as Record<string, unknown>;
    const backup = taskOf(example, "backup");
    const container = backup.containers.find((c) => c.name === job.containerName)!;
    expect(job).toEqual({
      platform: "aws",
      region: "eu-west-1",
      cluster: "mixstack-cluster",
      taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${backup.family}:1`,
      containerName: "backup",
      subnets: ["mixstack-network-private-0-id", "mixstack-network-private-1-id"],
      securityGroups: ["mixstack-backup-id"],
      logGroup: container.logConfiguration.options["awslogs-group"],
      logStreamPrefix: container.logConfiguration.options["awslogs-stream-prefix"],
    });
    expect(container.environment).toContainEqual({ name: "BACKUP_TARGET", value: example.outputs.backupTarget!.value });
    expect(example.outputs.backupTarget!.value).toMatch(/^s3:\/\/mixstack-backups-[0-9a-f]+\/backups$/);
    // The agent stages archives on the task's scratch disk: as large as the data it copies (50 + 5 GiB).
    expect(backup.resource.inputs.ephemeralStorage).toEqual({ sizeInGib: 55 });
  });
});
