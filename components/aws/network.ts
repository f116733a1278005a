import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "./config";

export interface AwsNetworkArgs {
  vpc: AwsConfig["vpc"];
  region: string;
}

/**
 * The network the stack runs in: a new VPC over two availability zones (public subnets for the load
 * balancers, private subnets with NAT egress for every task and the state host, an S3 gateway
 * endpoint so backups skip the NAT), or an existing VPC and its subnets.
 */
export class AwsNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  /** The private subnet of the state host and its EBS volume (both must share one AZ). */
  readonly stateSubnetId: pulumi.Output<string>;
  readonly stateAvailabilityZone: pulumi.Output<string>;

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Network", name, {}, opts);
    const { vpc } = args;
    if (vpc.id) {
      const privateSubnetIds = vpc.privateSubnetIds!;
      this.vpcId = pulumi.output(vpc.id);
      this.publicSubnetIds = pulumi.output(vpc.publicSubnetIds!);
      this.privateSubnetIds = pulumi.output(privateSubnetIds);
      this.stateSubnetId = pulumi.output(privateSubnetIds[0]!);
      this.stateAvailabilityZone = aws.ec2.getSubnetOutput({ id: privateSubnetIds[0]! }, { parent: this }).availabilityZone;
    } else {
      const zones: pulumi.Output<string[]> = vpc.availabilityZones
        ? pulumi.output(vpc.availabilityZones)
        : aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this }).names.apply((names) => {
            if (names.length < 2) throw new Error(`region ${args.region} offers fewer than two availability zones`);
            return names.slice(0, 2);
          });
      const cidr = vpc.cidr ?? DEFAULT_CIDR;
      const blocks = subnetBlocks(cidr);
      const child = { parent: this };
      const created = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } }, child);
      const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: created.id, tags: { Name: name } }, child);
      const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: created.id, tags: { Name: `${name}-public` } }, child);
      new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: gateway.id }, child);

      const publicSubnets = [0, 1].map((index) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-public-${index}`,
          {
            vpcId: created.id,
            cidrBlock: blocks.public[index],
            availabilityZone: zones.apply((z) => z[index]!),
            // Only the load balancers live here; nothing gets a public address by default.
            mapPublicIpOnLaunch: false,
            tags: { Name: `${name}-public-${index}` },
          },
          child,
        );
        new aws.ec2.RouteTableAssociation(`${name}-public-${index}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, child);
        return subnet;
      });

      const natCount = vpc.natGateways === "perZone" ? 2 : 1;
      const nats = Array.from({ length: natCount }, (_, index) => {
        const address = new aws.ec2.Eip(`${name}-nat-${index}`, { domain: "vpc", tags: { Name: `${name}-nat-${index}` } }, child);
        return new aws.ec2.NatGateway(
          `${name}-nat-${index}`,
          { allocationId: address.allocationId, subnetId: publicSubnets[index]!.id, tags: { Name: `${name}-nat-${index}` } },
          { ...child, dependsOn: [gateway] },
        );
      });

      const privateRouteTables: aws.ec2.RouteTable[] = [];
      const privateSubnets = [0, 1].map((index) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-private-${index}`,
          { vpcId: created.id, cidrBlock: blocks.private[index], availabilityZone: zones.apply((z) => z[index]!), tags: { Name: `${name}-private-${index}` } },
          child,
        );
        const routes = new aws.ec2.RouteTable(`${name}-private-${index}`, { vpcId: created.id, tags: { Name: `${name}-private-${index}` } }, child);
        new aws.ec2.Route(
          `${name}-private-${index}-default`,
          { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nats[Math.min(index, nats.length - 1)]!.id },
          child,
        );
        new aws.ec2.RouteTableAssociation(`${name}-private-${index}`, { subnetId: subnet.id, routeTableId: routes.id }, child);
        privateRouteTables.push(routes);
        return subnet;
      });

      new aws.ec2.VpcEndpoint(
        `${name}-s3`,
        {
          vpcId: created.id,
          serviceName: `com.amazonaws.${args.region}.s3`,
          vpcEndpointType: "Gateway",
          routeTableIds: privateRouteTables.map((table) => table.id),
          tags: { Name: `${name}-s3` },
        },
        child,
      );

      this.vpcId = created.id;
      this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
      this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
      this.stateSubnetId = privateSubnets[0]!.id;
      this.stateAvailabilityZone = privateSubnets[0]!.availabilityZone;
    }
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      stateSubnetId: this.stateSubnetId,
      stateAvailabilityZone: this.stateAvailabilityZone,
    });
  }
}

export const DEFAULT_CIDR = "10.40.0.0/16";

/** The VPC block in four equal quarters: two public subnets, then two private ones. */
export function subnetBlocks(cidr: string): { public: [string, string]; private: [string, string] } {
  const [address, bits] = cidr.split("/") as [string, string];
  const prefix = Number(bits);
  const base = address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0) >>> 0;
  const size = 2 ** (32 - prefix - 2);
  // Align to the block, whatever host bits the user wrote.
  const start = base - (base % (size * 4));
  const block = (index: number) => `${toDotted(start + index * size)}/${prefix + 2}`;
  return { public: [block(0), block(1)], private: [block(2), block(3)] };
}

function toDotted(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}
