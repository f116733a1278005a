import { z } from "zod";
import { field } from "../../config/fields";

/** `mixstack:aws`: how the stack lands on AWS (`platform: aws`). Every key is documented in docs/aws.md. */

const subnetId = z.string().regex(/^subnet-[0-9a-f]+$/, { message: "expected a subnet id such as subnet-0abc123" });
const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/, { message: "expected a DNS name such as events.example.com" });
const cidrBlock = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/, { message: "expected an IPv4 CIDR block from /16 to /24, e.g. 10.40.0.0/16" });
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a UTC time "HH:MM"' });

/** The values CloudWatch Logs accepts for a retention (0 = never expire is deliberately not offered). */
export const logRetentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const vpcSection = z
  .strictObject({
    id: z
      .string()
      .regex(/^vpc-[0-9a-f]+$/, { message: "expected a VPC id such as vpc-0abc123" })
      .optional()
      .describe("an existing VPC to deploy into; unset: a new VPC over two availability zones"),
    publicSubnetIds: z.array(subnetId).min(2).optional().describe("existing VPC: public subnets (two AZs at least) for the load balancers"),
    privateSubnetIds: z
      .array(subnetId)
      .min(2)
      .optional()
      .describe("existing VPC: private subnets (two AZs at least, with a NAT route) for the tasks; the first one hosts the state instance and its volume"),
    cidr: cidrBlock.optional().describe("new VPC: its CIDR block (default 10.40.0.0/16)"),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, { message: "expected an availability zone such as eu-west-1a" }))
      .length(2)
      .optional()
      .describe("new VPC: the two availability zones (default: the region's first two); the state instance lives in the first"),
    natGateways: z
      .enum(["one", "perZone"])
      .default("one")
      .describe("new VPC: one NAT gateway (cheaper) or one per zone (no cross-zone dependency) (default one)"),
  })
  .superRefine((vpc, context) => {
    if (vpc.id) {
      for (const key of ["publicSubnetIds", "privateSubnetIds"] as const) {
        if (!vpc[key]) context.addIssue({ code: "custom", path: [key], message: "is required when vpc.id is set" });
      }
      for (const key of ["cidr", "availabilityZones"] as const) {
        if (vpc[key]) context.addIssue({ code: "custom", path: [key], message: "applies to a new VPC only; remove it or vpc.id" });
      }
    } else {
      for (const key of ["publicSubnetIds", "privateSubnetIds"] as const) {
        if (vpc[key]) context.addIssue({ code: "custom", path: [key], message: "needs vpc.id (the VPC these subnets belong to)" });
      }
    }
  })
  .prefault({})
  .describe("network: a new VPC (default) or an existing one");

export const awsSection = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: "expected an AWS region such as eu-west-1" })
    .describe("AWS region of every resource (required)"),
  vpc: vpcSection,
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, { message: "expected an ACM certificate ARN" })
    .optional()
    .describe("ACM certificate for HTTPS on the load balancers (HTTP then redirects to HTTPS); required unless allowHttp"),
  allowHttp: field
    .flag(false)
    .describe("serve ingest and Grafana over plain HTTP when certificateArn is unset (default false: such a stack is refused; the token, Grafana's password and every event would cross the internet unencrypted)"),
  hostnames: z
    .strictObject({
      ingest: hostname.optional().describe("DNS name you point (CNAME/alias) at the ingest load balancer"),
      grafana: hostname.optional().describe("DNS name you point at the Grafana load balancer"),
    })
    .prefault({})
    .describe("public DNS names used in ingestUrl/grafanaUrl (default: the load balancers' own names)"),
  stateStorage: z
    .enum(["ec2-ebs", "fargate-efs"])
    .default("ec2-ebs")
    .describe(
      "where InfluxDB and the queue keep their data: an EC2 instance with a persistent gp3 EBS volume (default), or Fargate with EFS (opt-in; InfluxData does not support InfluxDB on NFS/EFS)",
    ),
  stateHost: z
    .strictObject({
      instanceType: z
        .string()
        .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: "expected an EC2 instance type such as t3.medium" })
        .default("t3.medium")
        .describe("EC2 instance type of the state host; x86_64 (default t3.medium: 2 vCPU, 4 GiB)"),
      volumeGb: field.int(0, 0, 16_384).describe("size of the gp3 data volume in GiB (default 0: the sum of influxdb.volumeGb and queue.volumeGb)"),
      volumeIops: field.int(3000, 3000, 16_000).describe("gp3 IOPS of the data volume (default 3000)"),
      volumeThroughput: field.int(125, 125, 1000).describe("gp3 throughput of the data volume in MiB/s (default 125)"),
      snapshotTime: clockTime.default("04:00").describe('UTC time of the daily snapshot of the data volume (default "04:00")'),
      snapshotsKept: field.int(14, 1, 1000).describe("daily snapshots kept (default 14)"),
    })
    .prefault({})
    .describe("the EC2 instance and EBS volume of InfluxDB and the queue (stateStorage ec2-ebs)"),
  managedQueue: z
    .strictObject({
      nodeType: z
        .string()
        .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { message: "expected an ElastiCache node type such as cache.t4g.small" })
        .default("cache.t4g.small")
        .describe("node type (default cache.t4g.small)"),
      engineVersion: z
        .string()
        .regex(/^\d+\.\d+$/, { message: 'expected "major.minor"' })
        // The worker's scripts run at maxmemory (allow-oom), which needs Valkey / Redis 7 or later.
        .refine((version) => Number(version.split(".")[0]) >= 7, { message: "expected Valkey 7.2 or later (the worker's scripts need Redis 7 features)" })
        .default("8.0")
        .describe("Valkey version, 7.2 or later (default 8.0)"),
      replicas: field.int(1, 0, 5).describe("read replicas; 1 or more enables Multi-AZ automatic failover (default 1)"),
      snapshotsKept: field.int(7, 0, 35).describe("daily snapshots kept (default 7)"),
    })
    .prefault({})
    .describe("ElastiCache for Valkey, used when queue.managed is true"),
  ingestScaling: z
    .strictObject({
      cpuPercent: field.int(60, 10, 95).describe("target average CPU of the ingest tasks (default 60)"),
      requestsPerTask: field.int(1000, 10).describe("target load-balancer requests per ingest task per minute (default 1000)"),
    })
    .prefault({})
    .describe("ingest autoscaling between ingest.minReplicas and ingest.maxReplicas"),
  backupBucket: z
    .strictObject({
      infrequentAccessDays: field.int(30, 30).describe("days before a backup object moves to S3 Standard-IA (default 30)"),
      glacierDays: field.int(90, 31).describe("days before it moves to Glacier Instant Retrieval (default 90)"),
      expireDays: field.int(365, 32).describe("days before it is deleted (default 365); the backup agent's own retention usually deletes it sooner"),
      noncurrentDays: field.int(30, 1).describe("days a deleted or overwritten backup object stays recoverable (default 30)"),
    })
    .superRefine((bucket, context) => {
      // S3 refuses a lifecycle whose objects leave Standard-IA before its 30-day minimum.
      if (bucket.glacierDays < bucket.infrequentAccessDays + 30) {
        context.addIssue({ code: "custom", path: ["glacierDays"], message: "must be at least infrequentAccessDays + 30" });
      }
      if (bucket.expireDays <= bucket.glacierDays) {
        context.addIssue({ code: "custom", path: ["expireDays"], message: "must be more than glacierDays" });
      }
    })
    .prefault({})
    .describe("lifecycle of the S3 bucket the stack creates when backup.target is unset"),
  logRetentionDays: z
    .preprocess((value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value), z.union(logRetentionDays.map((days) => z.literal(days))))
    .default(30)
    .describe("CloudWatch Logs retention in days (default 30)"),
  containerInsights: field.flag(false).describe("CloudWatch Container Insights on the cluster (extra cost) (default false)"),
}).superRefine((aws, context) => {
  if (!aws.certificateArn && !aws.allowHttp) {
    context.addIssue({
      code: "custom",
      path: ["certificateArn"],
      message: "is required: ingest and Grafana face the internet; set an ACM certificate ARN, or aws.allowHttp: true to serve plain HTTP",
    });
  }
});

export type AwsConfig = z.output<typeof awsSection>;
