import type { StackConfig } from "../../config/schema";
import { secretNames } from "../../config/secrets";
import { catalogue as defaultCatalogue, type Catalogue } from "./catalogue";
import { edgesOf, env, references, text } from "./env";
import type { CatalogueContext, ServiceDraft, ServiceName, Topology, TopologyOptions } from "./types";

/**
 * Builds the topology of one stack from its validated config and its platform's options. Pure.
 * `catalogue` is the list of service builders (tests add to it).
 */
export function buildTopology(config: StackConfig, options: TopologyOptions, catalogue: Catalogue = defaultCatalogue): Topology {
  const external = config.influxdb.external;
  const context: CatalogueContext = {
    config,
    options,
    wiring: {
      // A managed queue only accepts TLS connections.
      redisUrl: [config.queue.managed ? "rediss://:" : "redis://:", env.secret("queuePassword"), "@", env.endpoint("queue", "redis")],
      influxUrl: external ? [external.url.replace(/\/+$/, "")] : ["http://", env.endpoint("influxdb", "http")],
      logLevel: text(config.logLevel),
      backupTarget: config.backup.target ? { kind: "url", url: config.backup.target } : { kind: "platform" },
    },
  };
  const drafts = Object.values(catalogue).flatMap((build): ServiceDraft[] => {
    const draft = build(context);
    return draft ? [draft] : [];
  });
  // A service the config left out (an external InfluxDB replaces ours) is no one's dependency.
  const present = new Set<ServiceName>(drafts.map((draft) => draft.name));
  const services = drafts.map((draft) => ({
    ...draft,
    dependsOn: draft.dependsOn.filter((dependency) => present.has(dependency.service)),
    talksTo: edgesOf(draft),
  }));
  const secrets = secretNames.filter((name) =>
    services.some((service) => Object.values(service.env).some((value) => references(value).some((ref) => ref.kind === "secret" && ref.secret === name))),
  );
  return {
    stack: config.stack,
    services,
    secrets,
    backupTarget: context.wiring.backupTarget,
    keepDataOnDestroy: config.keepDataOnDestroy,
    notices: external
      ? [`InfluxDB is external (${external.url}): the stack deploys no InfluxDB and no backup job; backing up that database is its provider's job.`]
      : [],
  };
}
