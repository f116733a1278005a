import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import { pulumiConfig } from "../pulumi/mocks";

type AwsStackConfig = Extract<StackConfig, { platform: "aws" }>;

function parse(values: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
  const raw = pulumiConfig({ values, secretKeys });
  return parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set(raw.secretKeys) });
}

function problems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    parse(values, secretKeys);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^invalid stack config in stacks\/Pulumi\.prod\.yaml:/);
    return (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

// Plain HTTP must be asked for (aws.allowHttp, tested below); the other cases ask.
const aws = (section: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) => ({ platform: "aws", aws: { region: "eu-west-1", allowHttp: true, ...section }, ...rest });
const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

describe("the aws section of the stack config", () => {
  it("refuses a stack without a certificate unless allowHttp, naming the key", () => {
    expect(problems({ platform: "aws", aws: { region: "eu-west-1" } })).toEqual([
      "mixstack:aws.certificateArn: is required: ingest and Grafana face the internet; set an ACM certificate ARN, or aws.allowHttp: true to serve plain HTTP",
    ]);
    expect(problems({ platform: "aws", aws: { region: "eu-west-1", allowHttp: false } })).toHaveLength(1);
    expect((parse({ platform: "aws", aws: { region: "eu-west-1", certificateArn: CERTIFICATE } }) as AwsStackConfig).aws).toMatchObject({ certificateArn: CERTIFICATE, allowHttp: false });
    expect((parse({ platform: "aws", aws: { region: "eu-west-1", allowHttp: true } }) as AwsStackConfig).aws.allowHttp).toBe(true);
  });

  it("applies its defaults to a config that only names the region (and allows HTTP)", () => {
    const config = parse(aws()) as AwsStackConfig;
    expect(config.aws).toEqual({
      region: "eu-west-1",
      allowHttp: true,
      vpc: { natGateways: "one" },
      hostnames: {},
      stateStorage: "ec2-ebs",
      stateHost: { instanceType: "t3.medium", volumeGb: 0, volumeIops: 3000, volumeThroughput: 125, snapshotTime: "04:00", snapshotsKept: 14 },
      managedQueue: { nodeType: "cache.t4g.small", engineVersion: "8.0", replicas: 1, snapshotsKept: 7 },
      ingestScaling: { cpuPercent: 60, requestsPerTask: 1000 },
      backupBucket: { infrequentAccessDays: 30, glacierDays: 90, expireDays: 365, noncurrentDays: 30 },
      logRetentionDays: 30,
      containerInsights: false,
    });
    expect(config.queue.managed).toBe(false);
    expect(config.influxdb.external).toBeUndefined();
  });

  it("accepts an existing VPC with its subnets", () => {
    const vpc = { id: "vpc-0abc", publicSubnetIds: ["subnet-01", "subnet-02"], privateSubnetIds: ["subnet-03", "subnet-04"] };
    expect((parse(aws({ vpc })) as AwsStackConfig).aws.vpc).toEqual({ ...vpc, natGateways: "one" });
  });

  it.each([
    ["no region", { platform: "aws" }, ["mixstack:aws.region: is required"]],
    ["a misspelt region", aws({ region: "eu-west" }), ['mixstack:aws.region: expected an AWS region such as eu-west-1, got "eu-west"']],
    ["an existing VPC without its subnets", aws({ vpc: { id: "vpc-0abc" } }), [
      "mixstack:aws.vpc.publicSubnetIds: is required",
      "mixstack:aws.vpc.privateSubnetIds: is required",
    ]],
    ["subnets without their VPC", aws({ vpc: { privateSubnetIds: ["subnet-01", "subnet-02"] } }), [
      'mixstack:aws.vpc.privateSubnetIds: needs vpc.id (the VPC these subnets belong to), got ["subnet-01","subnet-02"]',
    ]],
    ["a CIDR block with an existing VPC", aws({ vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-01", "subnet-02"], privateSubnetIds: ["subnet-03", "subnet-04"], cidr: "10.0.0.0/16" } }), [
      'mixstack:aws.vpc.cidr: applies to a new VPC only; remove it or vpc.id, got "10.0.0.0/16"',
    ]],
    ["one private subnet", aws({ vpc: { id: "vpc-0abc", publicSubnetIds: ["subnet-01", "subnet-02"], privateSubnetIds: ["subnet-03"] } }), [
      'mixstack:aws.vpc.privateSubnetIds: Too small: expected array to have >=2 items, got ["subnet-03"]',
    ]],
    ["a VPC block that is too small", aws({ vpc: { cidr: "10.0.0.0/26" } }), ['mixstack:aws.vpc.cidr: expected an IPv4 CIDR block from /16 to /24, e.g. 10.40.0.0/16, got "10.0.0.0/26"']],
    ["something else than an ACM certificate", aws({ certificateArn: "arn:aws:iam::123456789012:server-certificate/x" }), [
      'mixstack:aws.certificateArn: expected an ACM certificate ARN, got "arn:aws:iam::123456789012:server-certificate/x"',
    ]],
    ["a hostname for a private service", aws({ hostnames: { influxdb: "db.example.com" } }), ["mixstack:aws.hostnames.influxdb: unknown key (known keys: ingest, grafana)"]],
    ["an unknown state storage", aws({ stateStorage: "efs" }), ['mixstack:aws.stateStorage: expected one of "ec2-ebs", "fargate-efs", got "efs"']],
    ["a log retention CloudWatch does not offer", aws({ logRetentionDays: 10 }), [expect.stringMatching(/^mixstack:aws\.logRetentionDays: /)]],
    ["Glacier before the Standard-IA minimum", aws({ backupBucket: { infrequentAccessDays: 30, glacierDays: 45 } }), ["mixstack:aws.backupBucket.glacierDays: must be at least infrequentAccessDays + 30, got 45"]],
    ["expiry before Glacier", aws({ backupBucket: { expireDays: 60 } }), ["mixstack:aws.backupBucket.expireDays: must be more than glacierDays, got 60"]],
    ["a snapshot time that is not HH:MM", aws({ stateHost: { snapshotTime: "4am" } }), ['mixstack:aws.stateHost.snapshotTime: expected a UTC time "HH:MM", got "4am"']],
  ])("rejects %s, naming the key", (_name, values, expected) => {
    expect(problems(values)).toEqual(expected);
  });
});

describe("shared config an AWS stack cannot deploy", () => {
  it.each([
    ["a gs:// backup target", aws({}, { backup: { target: "gs://bucket/mixstack" } }), [], [
      'mixstack:backup.target: expected s3://bucket/prefix, got "gs://bucket/mixstack": AWS tasks can write backups to S3 only (or leave it unset for the stack\'s own bucket)',
    ]],
    ["a file:// backup target", aws({}, { backup: { target: "file:///srv/backups" } }), [], [expect.stringMatching(/^mixstack:backup\.target: .*S3 only/)]],
    ["a schedule on days of month and of week", aws({}, { backup: { schedule: "0 3 1 * 1" } }), [], [
      'mixstack:backup.schedule: EventBridge Scheduler cannot run it: "0 3 1 * 1" restricts both day of month and day of week, which EventBridge cannot express; keep one of them "*"',
    ]],
    ["a managed queue with a short password", aws({}, { queue: { managed: true }, queuePassword: "fifteen-chars-x" }), ["queuePassword"], [
      "mixstack:queuePassword: ElastiCache needs an AUTH token of at least 16 characters (queue.managed is true)",
    ]],
    ["an external InfluxDB without its admin password", aws({}, { influxdb: { external: { url: "https://influx.example.com" } } }), [], [
      "mixstack:influxAdminPassword: is required with influxdb.external (the password of influxdb.adminUser on that server): `pulumi config set --secret influxAdminPassword <value>`",
    ]],
    ["an external InfluxDB URL with a path", aws({}, { influxdb: { external: { url: "https://influx.example.com/db" } }, influxAdminPassword: "an-admin-password" }), ["influxAdminPassword"], [
      'mixstack:influxdb.external.url: expected http(s)://host[:port], got "https://influx.example.com/db"',
    ]],
  ])("rejects %s before creating anything", (_name, values, secretKeys, expected) => {
    expect(problems(values, secretKeys)).toEqual(expected);
  });

  it.each([
    ["queue.managed", { queue: { managed: true } }, "mixstack:queue.managed: the docker platform has no managed queue (supported on: aws, gcp)"],
    ["influxdb.external", { influxdb: { external: { url: "http://influx:8086" } }, influxAdminPassword: "an-admin-password" }, "mixstack:influxdb.external: not supported on the docker platform (supported on: aws, gcp)"],
  ])("tells a Docker stack that %s is an AWS option", (_name, values, expected) => {
    expect(problems({ platform: "docker", ...values }, ["influxAdminPassword"])).toEqual([expected]);
  });

  it("accepts the options AWS implements", () => {
    const config = parse(aws({}, { queue: { managed: true }, influxdb: { external: { url: "https://influx.example.com:8086" } }, influxAdminPassword: "an-admin-password" }), ["influxAdminPassword"]);
    expect(config.queue.managed).toBe(true);
    expect(config.influxdb.external).toEqual({ url: "https://influx.example.com:8086" });
  });
});
