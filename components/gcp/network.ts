import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { FirewallRulePlan, NetworkPlan } from "./network-plan";

export interface GcpNetworkArgs {
  /** Name of the VPC. */
  vpcName: string;
  region: string;
  plan: NetworkPlan;
  firewall: FirewallRulePlan[];
}

/**
 * The stack's own VPC: no auto-created subnets and no default rules (so everything is denied
 * inbound but what `firewall` allows), the planned subnets with Private Google Access, and Cloud
 * NAT for the VM subnet only (the VM has no public address; Cloud Run reaches the internet
 * directly and the VPC only for private ranges).
 */
export class GcpNetwork extends pulumi.ComponentResource {
  readonly vpc: gcp.compute.Network;
  readonly subnets: ReadonlyMap<string, gcp.compute.Subnetwork>;
  readonly firewallRules: ReadonlyArray<{ plan: FirewallRulePlan; rule: gcp.compute.Firewall }>;

  constructor(name: string, args: GcpNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:Network", name, {}, opts);
    const child = { parent: this };

    this.vpc = new gcp.compute.Network(
      `${name}-vpc`,
      { name: args.vpcName, autoCreateSubnetworks: false, routingMode: "REGIONAL", description: "mixstack: private network of the stack" },
      child,
    );

    const subnets = new Map<string, gcp.compute.Subnetwork>();
    for (const subnet of args.plan.subnets) {
      subnets.set(
        subnet.name,
        new gcp.compute.Subnetwork(
          `${name}-${subnet.service ?? subnet.purpose}`,
          {
            name: subnet.name,
            network: this.vpc.id,
            region: args.region,
            ipCidrRange: subnet.cidr,
            privateIpGoogleAccess: true,
            // Managed endpoints (Private Service Connect) live in an ordinary subnet.
            purpose: "PRIVATE",
            description: subnet.service ? `mixstack: Direct VPC egress of ${subnet.service}` : `mixstack: ${subnet.purpose}`,
          },
          child,
        ),
      );
    }
    this.subnets = subnets;

    // Cloud NAT only for the VM (Cloud Run reaches the internet on its own).
    const vmSubnet = args.plan.subnets.find((subnet) => subnet.purpose === "vm");
    const router = vmSubnet && new gcp.compute.Router(`${name}-router`, { name: `${args.vpcName}-router`, network: this.vpc.id, region: args.region }, child);
    if (vmSubnet && router) new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        name: `${args.vpcName}-nat`,
        router: router.name,
        region: args.region,
        natIpAllocateOption: "AUTO_ONLY",
        sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
        subnetworks: [{ name: subnets.get(vmSubnet.name)!.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
        logConfig: { enable: true, filter: "ERRORS_ONLY" },
      },
      child,
    );

    this.firewallRules = args.firewall.map((plan) => {
      const protocolRules = [{ protocol: plan.ports.length > 0 ? "tcp" : "all", ports: plan.ports.length > 0 ? plan.ports.map(String) : undefined }];
      const rule = new gcp.compute.Firewall(
        `${name}-${plan.key}`,
        {
          name: plan.name,
          network: this.vpc.id,
          description: plan.description,
          direction: plan.direction,
          priority: plan.priority,
          allows: plan.action === "allow" ? protocolRules : undefined,
          denies: plan.action === "deny" ? protocolRules : undefined,
          sourceRanges: plan.sourceRanges,
          sourceTags: plan.sourceTags,
          targetTags: plan.targetTags,
          destinationRanges: plan.destinationRanges,
        },
        child,
      );
      return { plan, rule };
    });

    this.registerOutputs({ vpc: this.vpc.id });
  }
}
