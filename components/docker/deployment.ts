import { isIP } from "node:net";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { version } from "../../package.json";
import { publishedPorts, type DockerConfig } from "./config";
import type { PlatformArgs, PlatformDeployment } from "../platform";
import { deploymentSummary } from "../translate/summary";
import type { DockerBackupJob } from "./backup-job";
import {
  builds,
  edgeLabel,
  imageLabel,
  inStackForm,
  port,
  service,
  startOrder,
  type BuildName,
  type DeploymentSummary,
  type ServiceName,
  type ServiceSpec,
} from "../topology";
import { dockerEnv } from "./env";
import { dockerNetworkPlan } from "./network-plan";
import { dockerNames, hostPathFor, ownershipScript } from "./names";
import { initCommand, initGate, INIT_OPTIONS } from "./init-run";
import { DockerService, type DockerStorage } from "./service";

export type DockerDeploymentArgs = PlatformArgs<DockerConfig>;

/** Where the backups volume is mounted in the scheduler container. */
const BACKUP_STORE_URL = "file:///backups";

/**
 * The whole stack on one Docker engine (local socket, or any host from `mixstack:docker.host`):
 * private bridge networks that follow the topology's edges (docker/network-plan.ts), our two images
 * built on that engine, one container per topology service, volumes kept on destroy by default, and
 * the in-stack backup scheduler, in InfluxDB's network namespace.
 */
export class DockerDeployment extends pulumi.ComponentResource implements PlatformDeployment {
  readonly publicUrls: Partial<Record<ServiceName, pulumi.Output<string>>>;
  readonly backupTarget: pulumi.Output<string>;
  readonly backupJob: pulumi.Output<DockerBackupJob>;
  readonly summary: pulumi.Output<DeploymentSummary>;
  readonly notices: pulumi.Output<string[]>;
  /** One per pair of network namespaces an edge joins, by Docker network name (docker/network-plan.ts). */
  readonly networks: Readonly<Record<string, docker.Network>>;
  readonly services: Readonly<Partial<Record<ServiceName, DockerService>>>;

  constructor(name: string, args: DockerDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:docker:Deployment", name, {}, opts);
    const { topology, secrets, settings } = args;
    const names = dockerNames(settings.namePrefix ?? `mixstack-${topology.stack}`);
    const labels = { "mixstack.stack": topology.stack };

    // Provider options flow to every child through `parent`.
    const engine = settings.host
      ? new docker.Provider(`${name}-engine`, { host: settings.host, sshOpts: settings.sshOpts }, { parent: this })
      : undefined;
    const child = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ parent: this, provider: engine, ...extra });
    const childComponent: pulumi.ComponentResourceOptions = { parent: this, providers: engine ? [engine] : undefined };

    // As Docker runs them: a scheduled job in its in-stack form.
    const runForms = topology.services.map(inStackForm);
    const networkPlan = dockerNetworkPlan(topology, runForms, names.network);
    const networks: Record<string, docker.Network> = {};
    for (const network of networkPlan.networks) {
      networks[network.name] = new docker.Network(
        `${name}-${network.name.slice(names.network.length + 1)}-network`,
        {
          name: network.name,
          driver: "bridge",
          labels: [...Object.entries(labels), ["mixstack.network-to", network.target]].map(([label, value]) => ({ label, value })),
        },
        child({ deleteBeforeReplace: true }),
      );
    }
    this.networks = networks;

    // Built on the target engine; containers run the image ID, so every rebuild rolls out.
    const builtImages = new Map<BuildName, docker.Image>();
    const builtImage = (build: BuildName): pulumi.Input<string> => {
      let image = builtImages.get(build);
      if (!image) {
        const { context, dockerfile } = builds[build];
        image = new docker.Image(
          `${name}-${build}-image`,
          {
            imageName: `mixstack/${build}:${version}`,
            // The provider resolves the Dockerfile path from the project directory, not from the context.
            build: { context, dockerfile: context === "." ? dockerfile : `${context}/${dockerfile}` },
            skipPush: true,
          },
          child(),
        );
        builtImages.set(build, image);
      }
      return image.repoDigest;
    };
    const imageOf = (spec: ServiceSpec): pulumi.Input<string> => {
      if (spec.image.kind === "build") return builtImage(spec.image.build);
      return new docker.RemoteImage(`${name}-${spec.name}-image`, { name: spec.image.ref, keepLocally: true }, child()).imageId;
    };

    const storage: DockerStorage = settings.dataDir
      ? { kind: "hostDirectories", dataDir: settings.dataDir }
      : { kind: "volumes", keepOnDestroy: topology.keepDataOnDestroy };

    const notices = [...topology.notices];
    if (storage.kind === "hostDirectories" && !topology.keepDataOnDestroy) {
      // Neither Docker nor Pulumi deletes a host directory: say so rather than promise it.
      notices.push(
        `keepDataOnDestroy is false, but the host directories under ${storage.dataDir} (docker.dataDir) are never deleted by \`pulumi destroy\`: remove them on the Docker host yourself.`,
      );
    }
    const grafanaAddress = publishedPorts(settings).grafana?.address;
    if (!settings.tls && grafanaAddress && grafanaAddress !== "127.0.0.1" && grafanaAddress !== "::1" && topology.services.some((spec) => spec.name === "grafana")) {
      notices.push(
        `Grafana is served over plain HTTP on ${grafanaAddress}: its login and every dashboard cross the network unencrypted. Set docker.tls (Grafana then serves HTTPS with ingest's certificate), or docker.grafanaBindAddress: 127.0.0.1 and reach it through an SSH tunnel or a reverse proxy.`,
      );
    }
    for (const notice of notices) pulumi.log.warn(notice, this);
    this.notices = pulumi.output(notices);

    // Docker creates missing host directories owned by root; hand them to the user each service runs as.
    const ownership: pulumi.Resource[] = [];
    if (storage.kind === "hostDirectories") {
      const mounts = topology.services.flatMap((spec) =>
        spec.volumes.map((volume, index) => ({
          hostPath: hostPathFor(storage.dataDir, spec, volume),
          mountPath: `/mnt/${spec.name}-${index}`,
          uid: volume.uid,
          gid: volume.gid,
        })),
      );
      const ownerName = names.container("volume-owner");
      const owner = new docker.Container(
        `${name}-volume-owner`,
        {
          name: ownerName,
          // Our image: it has a shell and runs as root here (`user`).
          image: builtImage("services"),
          user: "0:0",
          ...initCommand(["sh", "-c", ownershipScript(mounts)]),
          ...initGate(),
          // `sleep` as PID 1 would ignore SIGTERM: run under Docker's init, stopped at once.
          init: true,
          stopTimeout: 5,
          volumes: mounts.map((m) => ({ hostPath: m.hostPath, containerPath: m.mountPath })),
          networkMode: "none",
          labels: [...Object.entries(labels), ["mixstack.service", "volume-owner"]].map(([label, value]) => ({ label, value })),
        },
        child(INIT_OPTIONS),
      );
      ownership.push(owner);
    }

    // Each public port on the host: where the section says (docker.ingestPort, ...), else on its container port.
    const published = publishedPorts(settings);
    const hostPorts = (spec: ServiceSpec): Record<number, number> =>
      Object.fromEntries(spec.ports.filter((p) => p.public).map((p, index) => [p.port, (index === 0 ? published[spec.name]?.hostPort : undefined) ?? p.port]));

    const created: Partial<Record<ServiceName, DockerService>> = {};
    const edges: string[] = [];
    for (const declared of startOrder(topology)) {
      // No scheduler service on Docker: the backup job runs as its in-stack scheduler container.
      const spec = inStackForm(declared);
      const networking = networkPlan.services.get(spec.name)!;
      const env = dockerEnv(spec, topology, secrets, BACKUP_STORE_URL, networking.kind === "sharesWith" ? networking.service : undefined);
      const prerequisites = spec.dependsOn.map((dependency) => created[dependency.service]!);
      // Labels of the containers and volumes created after an init run succeeded (they keep the
      // values of before the init gate, when they carried the run's exit code: always "0" here).
      const after: Record<string, string> = {};
      if (ownership.length > 0) after["mixstack.after.volume-owner"] = "0";
      for (const dependency of spec.dependsOn) {
        if (dependency.condition === "completed" && created[dependency.service]) after[`mixstack.after.${dependency.service}`] = "0";
      }
      const deployed = new DockerService(
        `${name}-${spec.name}`,
        {
          spec,
          image: imageOf(spec),
          envs: env.envs,
          containerName: names.container(spec.name),
          volumeName: (volume) => names.volume(spec.name, volume),
          networking:
            networking.kind === "sharesWith"
              ? { kind: "sharesWith", container: created[networking.service]!.container.id }
              : { kind: "networks", networks: networking.networks.map((network) => ({ name: networks[network.name]!.name, aliases: network.aliases })) },
          storage,
          hostPorts: hostPorts(spec),
          files: tlsFiles(spec, settings),
          settings: { ...settings, bindAddress: published[spec.name]?.address ?? settings.bindAddress },
          labels: {
            ...labels,
            "mixstack.service": spec.name,
            "mixstack.kind": spec.kind,
            "mixstack.talks-to": [...new Set(env.endpoints.map((e) => e.address))].join(","),
            ...after,
          },
          // A healthy container, or an init container whose run succeeded (its create fails otherwise).
          dependsOn: [...prerequisites.map((p) => p.container), ...ownership],
        },
        childComponent,
      );
      created[spec.name] = deployed;
      // An endpoint is wired when its target runs: on the target's network, or in its namespace.
      for (const endpoint of env.endpoints) {
        if (created[endpoint.to]) edges.push(edgeLabel(endpoint.from, endpoint.to, port(service(topology, endpoint.to), endpoint.port).port));
      }
    }
    this.services = created;

    const host = isIP(settings.publicHost) === 6 ? `[${settings.publicHost}]` : settings.publicHost;
    // A service serving HTTPS itself (ingest and Grafana with docker.tls) has `tls`.
    this.publicUrls = Object.fromEntries(
      topology.services.flatMap((spec) => {
        const first = spec.ports.find((p) => p.public);
        return first ? [[spec.name, pulumi.output(`${spec.tls ? "https" : "http"}://${host}:${hostPorts(spec)[first.port]}`)]] : [];
      }),
    );
    // The backups volume of the job that writes backups, as the host sees it.
    const writer = topology.services.find((spec) => spec.volumes.some((v) => v.purpose === "backups"));
    const backups = writer?.volumes.find((v) => v.purpose === "backups");
    this.backupTarget = pulumi.output(
      topology.backupTarget.kind === "url"
        ? topology.backupTarget.url
        : storage.kind === "hostDirectories" && writer && backups
          ? `file://${hostPathFor(storage.dataDir, writer, backups)}`
          : `docker-volume://${names.volume(writer?.name ?? "backup", backups?.name ?? "backups")}`,
    );
    this.backupJob = pulumi.output<DockerBackupJob>({
      platform: "docker",
      // Empty: the Docker CLI's default engine (DOCKER_HOST or the local socket), as the provider used.
      dockerHost: settings.host ?? "",
      // The network the backup job reaches the queue on from InfluxDB's namespace, where it runs.
      network: networkPlan.networks.find((network) => writer && network.talkers.includes(writer.name))?.name ?? names.network,
      container: names.container(writer?.name ?? "backup"),
    });
    this.summary = pulumi.output(
      deploymentSummary(
        topology.services
          .filter((spec) => created[spec.name])
          .map((spec) => ({
            name: spec.name,
            kind: spec.kind,
            image: imageLabel(spec.image),
            publicPorts: created[spec.name]!.publishedPorts,
            volumes: created[spec.name]!.persistentPaths,
            command: spec.command ?? [],
          })),
        edges,
      ),
    );
    this.registerOutputs({
      publicUrls: this.publicUrls,
      backupTarget: this.backupTarget,
      backupJob: this.backupJob,
      notices: this.notices,
    });
  }
}

/** The certificate and key of `docker.tls`, mounted where a service that serves HTTPS itself reads them. */
function tlsFiles(spec: ServiceSpec, settings: DockerConfig): Array<{ source: string; target: string }> | undefined {
  if (!spec.tls) return undefined;
  if (!settings.tls) throw new Error(`${spec.name} serves HTTPS but mixstack:docker.tls names no certificate`);
  return [
    { source: settings.tls.certFile, target: spec.tls.certPath },
    { source: settings.tls.keyFile, target: spec.tls.keyPath },
  ];
}
