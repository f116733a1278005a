import { port, service, type ServiceName, type Topology } from "../topology";
import type { GcpNames } from "./names";
import { serverlessServices, type Placement } from "./placement";

/**
 * The stack's private network on paper: subnets carved from `mixstack:gcp.networkCidr` and the
 * firewall rules derived from the topology's `talksTo` edges. Pure; `network.ts` creates it.
 *
 * Every Cloud Run workload gets its own Direct VPC egress subnet and network tag, so a firewall rule
 * can name exactly one workload as its source, by range and by tag (GCP matches either): Grafana can
 * reach InfluxDB's HTTP port, but not the queue or the backup RPC port.
 */

export interface SubnetPlan {
  /** Subnet resource name. */
  name: string;
  /** `vm`: the stateful VM. `egress`: one Cloud Run workload's Direct VPC egress. `psc`: managed endpoints. */
  purpose: "vm" | "egress" | "psc";
  /** The Cloud Run workload of an egress subnet. */
  service?: ServiceName;
  cidr: string;
}

export interface NetworkPlan {
  subnets: SubnetPlan[];
  /** The VM's fixed private address (reserved, so it survives a VM replacement). */
  vmAddress: string;
}

/** Identity-Aware Proxy's TCP forwarding range: the only source of SSH when `iapSsh` is on. */
export const IAP_RANGE = "35.235.240.0/20";

// Cloud Run asks for a /26 at least for Direct VPC egress, and about two addresses per instance
// (four here: a rollout runs old and new revisions side by side).
const MIN_EGRESS_PREFIX = 26;
const ADDRESSES_PER_INSTANCE = 4;
const VM_PREFIX = 24;
const PSC_PREFIX = 28;
/** Host number of the VM inside its subnet (GCP reserves the first two addresses). */
const VM_HOST = 10;

export function ipToNumber(ip: string): number {
  return ip.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

export function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Prefix length of the smallest egress subnet for `maxInstances` instances (never smaller than /26). */
export function egressPrefix(maxInstances: number): number {
  const needed = Math.max(2 ** (32 - MIN_EGRESS_PREFIX), maxInstances * ADDRESSES_PER_INSTANCE);
  return 32 - Math.ceil(Math.log2(needed));
}

export function planNetwork(
  topology: Topology,
  placement: Placement,
  names: GcpNames,
  networkCidr: string,
): NetworkPlan {
  const [base, bits] = networkCidr.split("/");
  const start = ipToNumber(base!);
  const end = start + 2 ** (32 - Number(bits));
  let next = start;
  const subnets: SubnetPlan[] = [];
  const allocate = (prefix: number, plan: Omit<SubnetPlan, "cidr">) => {
    const size = 2 ** (32 - prefix);
    const aligned = Math.ceil(next / size) * size;
    if (aligned + size > end) {
      throw new Error(
        `mixstack:gcp.networkCidr ${networkCidr} is too small for the stack's subnets (${subnets.length + 1} needed); use a larger block such as a /16`,
      );
    }
    subnets.push({ ...plan, cidr: `${numberToIp(aligned)}/${prefix}` });
    next = aligned + size;
  };

  // The VM's /24 stays first (and reserved) even without a VM, so adding one later moves no subnet.
  if (Object.values(placement).includes("vm")) allocate(VM_PREFIX, { name: names.of("vm"), purpose: "vm" });
  else next = start + 2 ** (32 - VM_PREFIX);
  for (const spec of serverlessServices(topology, placement)) {
    allocate(egressPrefix(spec.scaling.max), { name: names.of(spec.name), purpose: "egress", service: spec.name });
  }
  if (Object.values(placement).includes("managed")) allocate(PSC_PREFIX, { name: names.of("psc"), purpose: "psc" });
  return { subnets, vmAddress: numberToIp(start + VM_HOST) };
}

export function subnetOf(plan: NetworkPlan, service: ServiceName): SubnetPlan {
  const found = plan.subnets.find((subnet) => subnet.service === service);
  if (!found) throw new Error(`no egress subnet planned for ${service}`);
  return found;
}

export interface FirewallRulePlan {
  /** Stable short key (`ingest-to-queue-redis`); the rule's name is `<prefix>-<key>`. */
  key: string;
  name: string;
  description: string;
  direction: "INGRESS" | "EGRESS";
  action: "allow" | "deny";
  priority: number;
  /** TCP ports; empty = every protocol and port. */
  ports: number[];
  sourceRanges?: string[];
  sourceTags?: string[];
  targetTags?: string[];
  destinationRanges?: string[];
  /** The topology edge this rule opens; the summary's edges come from these. */
  edge?: { from: ServiceName; to: ServiceName; port: number };
}

/**
 * One rule per `talksTo` edge whose target is not on the caller's own host:
 * - a target on the VM: ingress to the target's tag, from the caller's egress subnet and tag only;
 * - a managed target (Private Service Connect endpoint, which ingress rules do not cover): egress
 *   from the caller's tag to the endpoint subnet, and a lower-priority rule denying everyone else.
 * Edges between two services on the VM stay on the host and need no rule.
 */
export function planFirewall(
  topology: Topology,
  placement: Placement,
  plan: NetworkPlan,
  names: GcpNames,
  options: { iapSsh: boolean },
): FirewallRulePlan[] {
  const rules: FirewallRulePlan[] = [];
  const psc = plan.subnets.find((subnet) => subnet.purpose === "psc");
  const managedTalkers = new Map<ServiceName, ServiceName[]>();
  for (const spec of topology.services) {
    for (const edge of spec.talksTo) {
      const targetPort = port(service(topology, edge.to), edge.port);
      const from = placement[edge.from];
      const to = placement[edge.to];
      if (from === "vm" || from === "managed") {
        if (to === "vm") continue; // on the same host
        throw new Error(`${edge.from} on the VM talks to ${edge.to}, which is not on the VM: not supported on GCP`);
      }
      const edgeFacts = { from: edge.from, to: edge.to, port: targetPort.port };
      if (to === "vm") {
        rules.push({
          ...ruleName(names, edge.from, "to", edge.to, edge.port),
          description: `${edge.from} reaches ${edge.to}:${targetPort.port} (${edge.port}); derived from the topology`,
          direction: "INGRESS",
          action: "allow",
          priority: 1000,
          ports: [targetPort.port],
          sourceRanges: [subnetOf(plan, edge.from).cidr],
          sourceTags: [names.tag(edge.from)],
          targetTags: [names.tag(edge.to)],
          edge: edgeFacts,
        });
      } else if (to === "managed") {
        if (!psc) throw new Error(`no endpoint subnet planned for the managed ${edge.to}`);
        rules.push({
          ...ruleName(names, edge.from, "to", edge.to, edge.port),
          description: `${edge.from} reaches the managed ${edge.to}:${targetPort.port} (${edge.port}); derived from the topology`,
          direction: "EGRESS",
          action: "allow",
          priority: 1000,
          ports: [targetPort.port],
          destinationRanges: [psc.cidr],
          targetTags: [names.tag(edge.from)],
          edge: edgeFacts,
        });
        managedTalkers.set(edge.to, [...(managedTalkers.get(edge.to) ?? []), edge.from]);
      } else {
        throw new Error(`${edge.from} talks to ${edge.to}, which runs on Cloud Run (${to}): services on Cloud Run are reached by URL, not by the VPC`);
      }
    }
  }
  if (psc && managedTalkers.size > 0) {
    rules.push({
      ...ruleName(names, "deny", "to", "psc"),
      description: "nothing else in the network reaches the managed endpoints",
      direction: "EGRESS",
      action: "deny",
      priority: 1100,
      ports: [],
      destinationRanges: [psc.cidr],
    });
  }
  if (options.iapSsh) {
    rules.push({
      ...ruleName(names, "iap", "ssh"),
      description: "operators: SSH to the VM through Identity-Aware Proxy only",
      direction: "INGRESS",
      action: "allow",
      priority: 1000,
      ports: [22],
      sourceRanges: [IAP_RANGE],
      targetTags: [names.tag("vm")],
    });
  }
  return rules;
}

function ruleName(names: GcpNames, ...parts: string[]): { key: string; name: string } {
  return { key: parts.join("-"), name: names.of(...parts) };
}
