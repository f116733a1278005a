import * as dockerBuild from "@pulumi/docker-build";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { builds, type BuildName } from "../topology";
import { registryHost, repositoryPath } from "./image-refs";
import type { GcpNames } from "./names";

export interface GcpRegistryArgs {
  names: GcpNames;
  project: string;
  region: string;
  /** Our images to build and push (`services`, `grafana`). */
  builds: BuildName[];
  /** Tag of the pushed images (the package version); services deploy the digest, not the tag. */
  tag: string;
  /** Whether the VM pulls third-party images through the Docker Hub mirror. */
  mirrorDockerHub: boolean;
  labels: Record<string, string>;
}

/**
 * Artifact Registry for the stack: a Docker repository our images are built into and pushed to
 * (for linux/amd64, Cloud Run's platform; deployed by digest so every rebuild rolls out), and a
 * remote repository mirroring Docker Hub for the VM's pinned third-party images. The push
 * authenticates with the deployer's Google credentials (the provider's access token), so no
 * `docker login` is needed.
 */
export class GcpRegistry extends pulumi.ComponentResource {
  readonly repository: gcp.artifactregistry.Repository;
  readonly mirror: gcp.artifactregistry.Repository | undefined;
  /** `tag@sha256:...` of each built image. */
  readonly images: ReadonlyMap<BuildName, pulumi.Output<string>>;
  /** `<region>-docker.pkg.dev/<project>/<mirror>`. */
  readonly mirrorPath: string | undefined;
  readonly host: string;

  constructor(name: string, args: GcpRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:Registry", name, {}, opts);
    const child = { parent: this };
    const repositoryId = args.names.of("images");
    this.host = registryHost(args.region);

    this.repository = new gcp.artifactregistry.Repository(
      `${name}-images`,
      {
        repositoryId,
        location: args.region,
        format: "DOCKER",
        description: "mixstack: images built from this repository",
        labels: args.labels,
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          // The deployed digest is always the newest push of its tag; older untagged builds go after 30 days.
          { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
          { id: "delete-old-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: `${30 * 86400}s` } },
        ],
      },
      child,
    );

    if (args.mirrorDockerHub) {
      const mirrorId = args.names.of("dockerhub");
      this.mirror = new gcp.artifactregistry.Repository(
        `${name}-dockerhub`,
        {
          repositoryId: mirrorId,
          location: args.region,
          format: "DOCKER",
          mode: "REMOTE_REPOSITORY",
          description: "mixstack: Docker Hub mirror for the VM's pinned images",
          labels: args.labels,
          remoteRepositoryConfig: { description: "Docker Hub", dockerRepository: { publicRepository: "DOCKER_HUB" } },
        },
        child,
      );
      this.mirrorPath = repositoryPath(args.region, args.project, mirrorId);
    }

    const token = pulumi.secret(gcp.organizations.getClientConfigOutput({ parent: this }).accessToken);
    const images = new Map<BuildName, pulumi.Output<string>>();
    for (const build of args.builds) {
      const { context, dockerfile } = builds[build];
      const image = new dockerBuild.Image(
        `${name}-${build}`,
        {
          context: { location: context },
          dockerfile: { location: context === "." ? dockerfile : `${context}/${dockerfile}` },
          platforms: ["linux/amd64"],
          push: true,
          tags: [pulumi.interpolate`${repositoryPath(args.region, args.project, repositoryId)}/${build}:${args.tag}`],
          registries: [{ address: this.host, username: "oauth2accesstoken", password: token }],
          labels: { "org.opencontainers.image.title": `mixstack ${build}` },
        },
        // The repository must exist before the push.
        { parent: this, dependsOn: [this.repository] },
      );
      images.set(build, image.ref);
    }
    this.images = images;
    this.registerOutputs({ repository: this.repository.id });
  }
}
