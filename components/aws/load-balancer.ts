import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { securityGroupText } from "./descriptions";

export interface PublicEndpointArgs {
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<string[]>;
  /** The port the service's container listens on (the target group's port). */
  containerPort: number;
  healthPath: string;
  health: { intervalSeconds: number; timeoutSeconds: number; retries: number };
  /** ACM certificate: HTTPS on 443 and a redirect on 80. Unset: HTTP on 80 only. */
  certificateArn?: string;
  /** The security group of the service's tasks: the load balancer may reach it, nothing else from here. */
  targetSecurityGroupId: pulumi.Input<string>;
}

/** Modern TLS only (TLS 1.3 and 1.2), as AWS recommends for new listeners. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * The public face of one stateless service: an internet-facing ALB in the public subnets whose only
 * ingress is 80 (and 443 with a certificate) and whose only egress is the service's port, an `ip`
 * target group health-checked on the service's HTTP probe, and the listeners.
 */
export class PublicEndpoint extends pulumi.ComponentResource {
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  /** `https` with a certificate, `http` otherwise. */
  readonly scheme: "http" | "https";
  /** The ports open to the internet. */
  readonly listenerPorts: number[];
  /** ECS refuses a service whose target group has no listener yet: services wait for these. */
  readonly listeners: aws.lb.Listener[];

  constructor(name: string, args: PublicEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:PublicEndpoint", name, {}, opts);
    const child = { parent: this };
    const secure = args.certificateArn !== undefined;
    this.scheme = secure ? "https" : "http";
    this.listenerPorts = secure ? [80, 443] : [80];

    this.securityGroup = new aws.ec2.SecurityGroup(`${name}-alb`, { vpcId: args.vpcId, description: securityGroupText(`${name} load balancer: HTTP(S) from the internet`) }, child);
    for (const listenerPort of this.listenerPorts) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-${listenerPort}`,
        { securityGroupId: this.securityGroup.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: listenerPort, toPort: listenerPort, description: "internet" },
        child,
      );
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-tasks`,
      {
        securityGroupId: this.securityGroup.id,
        referencedSecurityGroupId: args.targetSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: args.containerPort,
        toPort: args.containerPort,
        description: "the service tasks",
      },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-alb`,
      {
        securityGroupId: args.targetSecurityGroupId,
        referencedSecurityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: args.containerPort,
        toPort: args.containerPort,
        description: "its load balancer",
      },
      child,
    );

    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [this.securityGroup.id],
        dropInvalidHeaderFields: true,
        idleTimeout: 60,
      },
      child,
    );
    const interval = Math.min(Math.max(args.health.intervalSeconds, 5), 300);
    this.targetGroup = new aws.lb.TargetGroup(
      `${name}`,
      {
        vpcId: args.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: args.containerPort,
        deregistrationDelay: 30,
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          path: args.healthPath,
          port: "traffic-port",
          matcher: "200",
          interval,
          timeout: Math.min(Math.max(args.health.timeoutSeconds, 2), interval - 1, 120),
          healthyThreshold: 2,
          unhealthyThreshold: Math.min(Math.max(args.health.retries, 2), 10),
        },
      },
      child,
    );
    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    const http = new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: secure ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] : forward,
      },
      child,
    );
    const https = secure
      ? new aws.lb.Listener(
          `${name}-https`,
          { loadBalancerArn: this.loadBalancer.arn, port: 443, protocol: "HTTPS", sslPolicy: TLS_POLICY, certificateArn: args.certificateArn, defaultActions: forward },
          child,
        )
      : undefined;
    this.listeners = https ? [http, https] : [http];
    this.registerOutputs({ dnsName: this.loadBalancer.dnsName });
  }
}
