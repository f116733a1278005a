import { describe, expect, it } from "vitest";
import { stackHash } from "../../components/translate/names";
import { gcpNamePrefix, gcpNames, MAX_PREFIX } from "../../components/gcp/names";
import { egressPrefix, IAP_RANGE, ipToNumber, numberToIp, planFirewall, planNetwork, subnetOf } from "../../components/gcp/network-plan";
import { placeServices } from "../../components/gcp/placement";
import type { Topology } from "../../components/topology";
import { gcpTopology } from "./support";

const names = gcpNames("mixstack-t");

function plans(values: Record<string, unknown> = {}, options: { iapSsh?: boolean; cidr?: string } = {}) {
  const topology = gcpTopology(values);
  const placement = placeServices(topology, new Set(topology.services.filter((s) => s.managed).map((s) => s.name)));
  const network = planNetwork(topology, placement, names, options.cidr ?? "10.42.0.0/16");
  const firewall = planFirewall(topology, placement, network, names, { iapSsh: options.iapSsh ?? false });
  return { topology, placement, network, firewall };
}

/** Who may reach each port, as the firewall says: `to:port <- from` (ingress and egress allow rules). */
function allowedPaths(firewall: ReturnType<typeof plans>["firewall"], network: ReturnType<typeof plans>["network"]): string[] {
  const serviceOfTag = (tag: string) => tag.replace(`${names.prefix}-`, "");
  const serviceOfRange = (range: string) => network.subnets.find((s) => s.cidr === range)?.service ?? range;
  return firewall
    .filter((rule) => rule.action === "allow" && rule.ports.length > 0 && rule.edge)
    .flatMap((rule) => {
      const target = rule.direction === "INGRESS" ? serviceOfTag(rule.targetTags![0]!) : rule.edge!.to;
      const sources =
        rule.direction === "INGRESS"
          ? [...(rule.sourceRanges ?? []).map(serviceOfRange), ...(rule.sourceTags ?? []).map(serviceOfTag)]
          : (rule.targetTags ?? []).map(serviceOfTag);
      return [...new Set(sources)].map((source) => `${target}:${rule.ports.join(",")} <- ${source}`);
    })
    .sort();
}

describe("GCP names", () => {
  it.each([
    ["a short stack", "prod", undefined, "mixstack-prod"],
    ["the example stack", "gcp-example", undefined, "mixstack-gcp-example"],
    ["a configured prefix", "prod", "acme-mx", "acme-mx"],
    // A lossy slug is told apart by a hash: `Prod_EU` and `prod-eu` are two stacks (issue 17).
    ["odd characters", "Prod_EU", undefined, `mx-prod-eu-${stackHash("Prod_EU", 4)}`],
  ])("prefix for %s", (_case, stack, given, expected) => {
    expect(gcpNamePrefix(stack, given)).toBe(expected);
  });

  it("shortens a long stack name to 20 characters, stably and distinctly", () => {
    const a = gcpNamePrefix("production-europe-west");
    const b = gcpNamePrefix("production-europe-east");
    expect([a.length <= MAX_PREFIX, b.length <= MAX_PREFIX, a === gcpNamePrefix("production-europe-west"), a !== b]).toEqual([true, true, true, true]);
    expect(a).toMatch(/^mx-[a-z0-9-]+-[0-9a-f]{4}$/);
  });

  it("keeps every service account ID within GCP's 30 characters for the longest prefix", () => {
    const longest = gcpNames("a".repeat(MAX_PREFIX));
    const ids = ["influxdb", "queue", "bootstrap", "ingest", "worker", "grafana", "backup", "vm", "scheduler"].map((owner) => longest.serviceAccount(owner));
    expect(ids.filter((id) => id.length > 30)).toEqual([]);
  });

  it("refuses a name over its limit with the key to change", () => {
    expect(() => gcpNames("a".repeat(25)).serviceAccount("scheduler")).toThrow(/longer than 30 characters; choose a shorter mixstack:gcp.namePrefix/);
  });
});

describe("GCP network plan", () => {
  it.each([
    [1, 26],
    [16, 26],
    [17, 25],
    [100, 23],
  ])("sizes a Direct VPC egress subnet for %i instances as a /%i", (instances, prefix) => {
    expect(egressPrefix(instances)).toBe(prefix);
  });

  it.each(["10.42.0.10", "172.16.255.1", "192.168.1.254"])("converts %s to a number and back", (ip) => {
    expect(numberToIp(ipToNumber(ip))).toBe(ip);
  });

  it("gives the VM a /24 and its fixed address, and every Cloud Run workload its own aligned subnet", () => {
    const { network } = plans({ ingest: { minReplicas: 2, maxReplicas: 40 } });
    expect(network.vmAddress).toBe("10.42.0.10");
    expect(network.subnets.map((s) => [s.purpose, s.service ?? "-", s.cidr])).toEqual([
      ["vm", "-", "10.42.0.0/24"],
      ["egress", "bootstrap", "10.42.1.0/26"],
      ["egress", "ingest", "10.42.2.0/24"],
      ["egress", "worker", "10.42.3.0/26"],
      ["egress", "grafana", "10.42.3.64/26"],
      ["egress", "backup", "10.42.3.128/26"],
    ]);
  });

  it("adds an endpoint subnet for a managed queue and no egress subnet for it", () => {
    const { network } = plans({ queue: { managed: true } });
    expect(network.subnets.filter((s) => s.purpose === "psc").map((s) => s.cidr)).toEqual(["10.42.2.64/28"]);
    expect(network.subnets.some((s) => s.service === "queue")).toBe(false);
  });

  it("names the config key when the block is too small", () => {
    expect(() => plans({}, { cidr: "10.42.0.0/24" })).toThrow(/mixstack:gcp.networkCidr 10.42.0.0\/24 is too small/);
  });
});

describe("GCP firewall plan", () => {
  it("lets each stateful port be reached only by the services whose talksTo names it", () => {
    const { firewall, network } = plans();
    expect(allowedPaths(firewall, network)).toEqual([
      "influxdb:8086 <- backup",
      "influxdb:8086 <- bootstrap",
      "influxdb:8086 <- grafana",
      "influxdb:8086 <- worker",
      "influxdb:8088 <- backup",
      "queue:6379 <- backup",
      "queue:6379 <- ingest",
      "queue:6379 <- worker",
    ]);
  });

  it("matches every rule's source range and tag to the same workload's egress subnet", () => {
    const { firewall, network } = plans();
    for (const rule of firewall.filter((r) => r.direction === "INGRESS" && r.edge)) {
      expect([rule.sourceRanges, rule.sourceTags]).toEqual([[subnetOf(network, rule.edge!.from).cidr], [names.tag(rule.edge!.from)]]);
    }
  });

  it("never opens anything from 0.0.0.0/0; SSH only from IAP when asked", () => {
    const without = plans().firewall;
    const withSsh = plans({}, { iapSsh: true }).firewall;
    const sources = (rules: typeof without) => rules.flatMap((r) => r.sourceRanges ?? []);
    expect(sources(without).filter((range) => !range.startsWith("10.42."))).toEqual([]);
    expect(sources(withSsh).filter((range) => !range.startsWith("10.42."))).toEqual([IAP_RANGE]);
    expect(withSsh.find((r) => r.ports.includes(22))).toMatchObject({ targetTags: [names.tag("vm")], sourceRanges: [IAP_RANGE] });
  });

  it("reaches a managed queue by egress rules from its talkers only, and denies the endpoint subnet to the rest", () => {
    const { firewall, network } = plans({ queue: { managed: true } });
    const psc = network.subnets.find((s) => s.purpose === "psc")!.cidr;
    const toQueue = firewall.filter((r) => r.edge?.to === "queue");
    expect(toQueue.map((r) => [r.direction, r.action, r.targetTags, r.destinationRanges, r.ports])).toEqual([
      ["EGRESS", "allow", [names.tag("ingest")], [psc], [6379]],
      ["EGRESS", "allow", [names.tag("worker")], [psc], [6379]],
      ["EGRESS", "allow", [names.tag("backup")], [psc], [6379]],
    ]);
    const deny = firewall.find((r) => r.action === "deny")!;
    expect([deny.direction, deny.destinationRanges, deny.targetTags, deny.priority > toQueue[0]!.priority]).toEqual(["EGRESS", [psc], undefined, true]);
  });

  it("refuses an edge into a Cloud Run workload (no private path exists)", () => {
    const topology = gcpTopology();
    const broken: Topology = {
      ...topology,
      services: topology.services.map((s) => (s.name === "worker" ? { ...s, talksTo: [...s.talksTo, { from: "worker", to: "ingest", port: "http" }] } : s)),
    };
    const placement = placeServices(broken);
    expect(() => planFirewall(broken, placement, planNetwork(broken, placement, names, "10.42.0.0/16"), names, { iapSsh: false })).toThrow(
      /worker talks to ingest, which runs on Cloud Run/,
    );
  });
});
