import { describe, expect, it } from "vitest";
import { topologyFor as stackTopology } from "../../components/stack";
import { parseStackConfig } from "../../config/load";
import { parseS3Url } from "../../components/aws/s3-url";
import { containerDefinition, ecsHealthCheck } from "../../components/aws/container";
import { LIFECYCLE_POLICY_TEXT, lifecyclePolicyText, SECURITY_GROUP_TEXT, securityGroupText } from "../../components/aws/descriptions";
import { slug as stackSlug } from "../../components/translate/names";
import { cpuUnits, fargateTaskSize } from "../../components/aws/fargate";
import { repositoryName } from "../../components/aws/images";
import { subnetBlocks } from "../../components/aws/network";
import { DATA_MOUNT, planDeployment, type AwsPlan } from "../../components/aws/plan";
import { planSecrets } from "../../components/translate/secrets";
import { service, type Topology } from "../../components/topology";
import { pulumiConfig } from "../pulumi/mocks";

function topologyFor(values: Record<string, unknown> = {}, secretKeys: string[] = []): Topology {
  const raw = pulumiConfig({ values: { platform: "aws", aws: { region: "eu-west-1", allowHttp: true }, ...values }, secretKeys });
  return stackTopology(parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set(raw.secretKeys) }));
}

function plan(values: Record<string, unknown> = {}, storage: "ec2-ebs" | "fargate-efs" = "ec2-ebs", secretKeys: string[] = []): AwsPlan {
  const result = planDeployment(topologyFor(values, secretKeys), storage);
  if (result instanceof Error) throw result;
  return result;
}

describe("Fargate task sizes", () => {
  it.each([
    [256, 512, { cpu: 256, memory: 512 }],
    [100, 300, { cpu: 256, memory: 512 }],
    [512, 512, { cpu: 512, memory: 1024 }],
    [1024, 768, { cpu: 1024, memory: 2048 }],
    [1536, 768, { cpu: 2048, memory: 4096 }],
    [1024, 8192, { cpu: 1024, memory: 8192 }],
    [1024, 9000, { cpu: 2048, memory: 9216 }],
    [256, 4096, { cpu: 512, memory: 4096 }],
    [4096, 30_720, { cpu: 4096, memory: 30_720 }],
    [8192, 20_000, { cpu: 8192, memory: 20_480 }],
  ])("%i CPU units and %i MiB fit in %o", (cpu, memory, expected) => {
    expect(fargateTaskSize(cpu, memory)).toEqual(expected);
  });

  it("says when nothing is large enough", () => {
    expect(fargateTaskSize(20_000, 1024)).toBeInstanceOf(Error);
  });

  it.each([
    [0.25, 256],
    [0.5, 512],
    [1, 1024],
    [0.01, 10],
    [0.0001, 1],
  ])("%f cores are %i CPU units", (cpus, units) => {
    expect(cpuUnits(cpus)).toBe(units);
  });
});

describe("ECS health checks and container definitions", () => {
  it.each([
    [{ intervalSeconds: 10, timeoutSeconds: 5, retries: 6, startPeriodSeconds: 30 }, { interval: 10, timeout: 5, retries: 6, startPeriod: 30 }],
    [{ intervalSeconds: 1, timeoutSeconds: 1, retries: 0, startPeriodSeconds: -5 }, { interval: 5, timeout: 2, retries: 1, startPeriod: 0 }],
    [{ intervalSeconds: 1000, timeoutSeconds: 500, retries: 50, startPeriodSeconds: 900 }, { interval: 300, timeout: 120, retries: 10, startPeriod: 300 }],
    [{ intervalSeconds: 5, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0 }, { interval: 5, timeout: 4, retries: 3, startPeriod: 0 }],
  ])("keeps %o within ECS's limits as %o", (timings, expected) => {
    expect(ecsHealthCheck({ command: "true", ...timings })).toEqual({ command: ["CMD-SHELL", "true"], ...expected });
  });

  it("maps ports, mounts, logs, init dependencies and keeps secrets as references", () => {
    const worker = service(topologyFor(), "worker");
    const definition = containerDefinition({
      spec: worker,
      image: "repo/services@sha256:abc",
      environment: { LOG_LEVEL: "info", INFLUX_DB: "mixevents" },
      secretArns: { REDIS_URL: "arn:aws:secretsmanager:eu-west-1:1:secret:redis-url-AbC:::v1" },
      volumeNames: {},
      log: { group: "/mixstack/prod/worker", region: "eu-west-1", streamPrefix: "mixstack" },
      essential: true,
      after: ["bootstrap"],
    });
    expect(definition).toMatchObject({
      name: "worker",
      image: "repo/services@sha256:abc",
      essential: true,
      command: ["worker"],
      environment: [
        { name: "INFLUX_DB", value: "mixevents" },
        { name: "LOG_LEVEL", value: "info" },
      ],
      secrets: [{ name: "REDIS_URL", valueFrom: "arn:aws:secretsmanager:eu-west-1:1:secret:redis-url-AbC:::v1" }],
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/mixstack/prod/worker", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "mixstack" } },
      dependsOn: [{ containerName: "bootstrap", condition: "SUCCESS" }],
      linuxParameters: { initProcessEnabled: true },
      cpu: 1024,
      memory: 512,
      stopTimeout: 30,
    });
    const influx = containerDefinition({
      spec: service(topologyFor(), "influxdb"),
      image: "repo/influxdb@sha256:def",
      environment: {},
      secretArns: {},
      volumeNames: { data: "influxdb-data" },
      log: { group: "g", region: "eu-west-1", streamPrefix: "mixstack" },
      essential: true,
      after: [],
    });
    expect(influx.portMappings).toEqual([
      { name: "http", containerPort: 8086, hostPort: 8086, protocol: "tcp" },
      { name: "rpc", containerPort: 8088, hostPort: 8088, protocol: "tcp" },
    ]);
    expect(influx.mountPoints).toEqual([{ sourceVolume: "influxdb-data", containerPath: "/var/lib/influxdb", readOnly: false }]);
    expect(influx.dependsOn).toBeUndefined();
    expect(influx.linuxParameters).toBeUndefined();
  });
});

describe("subnets of a new VPC", () => {
  it.each([
    ["10.40.0.0/16", ["10.40.0.0/18", "10.40.64.0/18"], ["10.40.128.0/18", "10.40.192.0/18"]],
    ["10.1.0.0/20", ["10.1.0.0/22", "10.1.4.0/22"], ["10.1.8.0/22", "10.1.12.0/22"]],
    ["192.168.7.0/24", ["192.168.7.0/26", "192.168.7.64/26"], ["192.168.7.128/26", "192.168.7.192/26"]],
    ["10.40.3.9/16", ["10.40.0.0/18", "10.40.64.0/18"], ["10.40.128.0/18", "10.40.192.0/18"]],
  ])("%s splits into two public and two private quarters", (cidr, publicBlocks, privateBlocks) => {
    expect(subnetBlocks(cidr)).toEqual({ public: publicBlocks, private: privateBlocks });
  });
});

describe("names", () => {
  it.each([
    ["prod", "prod"],
    ["aws-example", "aws-example"],
    ["My_Stack.v2", "my-stack-v2"],
    ["__", "stack"],
  ])("stack %s is %s in names", (stack, slug) => {
    expect(stackSlug(stack)).toBe(slug);
  });

  it.each([
    ["influxdb:1.12.4", "influxdb"],
    ["valkey/valkey:8.1.8", "valkey"],
    ["ghcr.io/org/thing:1.0.0@sha256:abc", "thing"],
  ])("mirrors %s into the repository %s", (ref, name) => {
    expect(repositoryName(ref)).toBe(name);
  });

  it.each([
    ["s3://bucket/prefix", { bucket: "bucket", prefix: "prefix" }],
    ["s3://my.bucket-1/a/b/", { bucket: "my.bucket-1", prefix: "a/b" }],
    ["s3://bucket", { bucket: "bucket", prefix: "" }],
  ])("reads %s", (url, parts) => {
    expect(parseS3Url(url)).toEqual(parts);
  });

  it.each(["gs://bucket/x", "file:///backups", "s3://UPPER/x"])("refuses %s as an S3 location", (url) => {
    expect(parseS3Url(url)).toBeInstanceOf(Error);
  });
});

describe("descriptions AWS accepts", () => {
  it.each([
    ["worker -> influxdb:8086; bootstrap -> influxdb:8086", "worker to influxdb:8086; bootstrap to influxdb:8086"],
    ["the stack's services", "the stacks services"],
    ["ünïcode <tags> & \"quotes\"", " n code  tags  &  quotes "],
  ])("security-group text %j becomes %j", (text, expected) => {
    expect(securityGroupText(text)).toBe(expected);
    expect(expected).toMatch(SECURITY_GROUP_TEXT);
  });

  it.each([
    ["mixstack my.stack: daily snapshots", "mixstack my stack daily snapshots"],
    ["mixstack prod_1 daily", "mixstack prod_1 daily"],
  ])("lifecycle-policy text %j becomes %j", (text, expected) => {
    expect(lifecyclePolicyText(text)).toBe(expected);
    expect(expected).toMatch(LIFECYCLE_POLICY_TEXT);
  });
});

describe("secrets of the containers", () => {
  it("stores each distinct secret template once, named after the secret or the variable", () => {
    const topology = topologyFor();
    const entries = planSecrets(topology.services);
    expect(entries.map((entry) => entry.id).sort()).toEqual([
      "api-secret",
      "grafana-admin-password",
      "grafana-secret-key",
      "influx-admin-password",
      "influx-reader-password",
      "influx-writer-password",
      "project-token",
      "queue-password",
      "redis-url",
    ]);
    // REDIS_URL is the same template for ingest, worker and backup: one secret.
    expect(entries.filter((entry) => entry.id === "redis-url")).toHaveLength(1);
  });
});

describe("the AWS plan of the topology", () => {
  it("runs stateful services on the EC2 state host and everything else on Fargate", () => {
    const { tasks } = plan();
    expect(Object.fromEntries(tasks.map((task) => [task.owner, `${task.capacity}/${task.runs}`]))).toEqual({
      influxdb: "ec2/service",
      queue: "ec2/service",
      ingest: "fargate/service",
      worker: "fargate/service",
      grafana: "fargate/service",
      backup: "fargate/schedule",
    });
  });

  it("runs the init service as a first container of every task that waits for it", () => {
    const { tasks, hosts } = plan();
    expect(hosts.bootstrap?.sort()).toEqual(["backup", "grafana", "worker"]);
    for (const owner of ["worker", "grafana", "backup"]) {
      expect(tasks.find((task) => task.owner === owner)!.containers.map((c) => c.name)).toEqual(["bootstrap", owner]);
    }
  });

  it.each<[string, "ec2-ebs" | "fargate-efs", Record<string, string>]>([
    ["ec2-ebs", "ec2-ebs", { "influxdb-data": `ebs:${DATA_MOUNT}/influxdb-data`, "queue-data": `ebs:${DATA_MOUNT}/queue-data`, "grafana-data": "efs:/grafana-data", "backup-backups": "bucket" }],
    ["fargate-efs", "fargate-efs", { "influxdb-data": "efs:/influxdb-data", "queue-data": "efs:/queue-data", "grafana-data": "efs:/grafana-data", "backup-backups": "bucket" }],
  ])("places every volume (%s)", (_name, storage, expected) => {
    const placements = Object.fromEntries(
      plan({}, storage).tasks.flatMap((task) =>
        task.volumes.map((v) => [
          `${v.service}-${v.volume.name}`,
          v.placement.kind === "ebs" ? `ebs:${v.placement.hostPath}` : v.placement.kind === "efs" ? `efs:${v.placement.accessPointPath}` : "bucket",
        ]),
      ),
    );
    expect(placements).toEqual(expected);
  });

  it("opens exactly one path per task, target and port, carrying the edges it serves", () => {
    expect(plan().ingress.map((p) => `${p.from} -> ${p.to}:${p.port} [${p.edges.join("; ")}]`)).toEqual([
      "backup -> influxdb:8086 [bootstrap -> influxdb:8086; backup -> influxdb:8086]",
      "backup -> influxdb:8088 [backup -> influxdb:8088]",
      "backup -> queue:6379 [backup -> queue:6379]",
      "grafana -> influxdb:8086 [bootstrap -> influxdb:8086; grafana -> influxdb:8086]",
      "ingest -> queue:6379 [ingest -> queue:6379]",
      "worker -> influxdb:8086 [bootstrap -> influxdb:8086; worker -> influxdb:8086]",
      "worker -> queue:6379 [worker -> queue:6379]",
    ]);
  });

  it("leaves a managed queue to its managed offering, still reachable only from its clients", () => {
    const managed = plan({ queue: { managed: true } });
    expect(managed.managed.map((s) => s.name)).toEqual(["queue"]);
    expect(managed.tasks.map((t) => t.owner)).not.toContain("queue");
    expect(managed.ingress.filter((p) => p.to === "queue").map((p) => p.from).sort()).toEqual(["backup", "ingest", "worker"]);
  });

  it("has no InfluxDB and no backup job with an external InfluxDB", () => {
    const external = plan({ influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "a-long-admin-password" }, "ec2-ebs", ["influxAdminPassword"]);
    expect(external.tasks.map((t) => t.owner).sort()).toEqual(["grafana", "ingest", "queue", "worker"]);
    expect(external.ingress.some((p) => p.to === "influxdb")).toBe(false);
  });
});
