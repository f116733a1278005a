import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { version } from "../../package.json";
import { builds, imageLabel, type ImageSpec } from "../topology";

export interface AwsImagesArgs {
  /** The images the tasks run (builds of this repository, pinned third-party refs). */
  images: ImageSpec[];
  /** Prefix of the ECR repository names (`mixstack-prod` → `mixstack-prod/services`). */
  repositoryPrefix: string;
}

export interface PushedImage {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…`: what task definitions run. */
  ref: pulumi.Output<string>;
  repositoryArn: pulumi.Output<string>;
}

/** Empty build context for mirroring a pinned image (the Dockerfile is inline: `FROM <ref>`). */
const MIRROR_CONTEXT = join("components", "aws", "mirror");

/**
 * One ECR repository per image. Our images are built from this repository and pushed; pinned
 * third-party images (InfluxDB, Valkey) are mirrored (`FROM <ref>`), so every task runs an image
 * from the stack's own registry, pinned by digest: a rebuild rolls out, Docker Hub's pull limits
 * never stop a restart. Builds need Docker with buildx where `pulumi up` runs.
 */
export class AwsImages extends pulumi.ComponentResource {
  /** By image label (`build:services`, `influxdb:1.12.4`). */
  readonly images: ReadonlyMap<string, PushedImage>;

  constructor(name: string, args: AwsImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:Images", name, {}, opts);
    const images = new Map<string, PushedImage>();
    for (const image of args.images) {
      const label = imageLabel(image);
      if (images.has(label)) continue;
      const short = image.kind === "build" ? image.build : repositoryName(image.ref);
      const repository = new aws.ecr.Repository(
        `${name}-${short}`,
        {
          name: `${args.repositoryPrefix}/${short}`,
          imageScanningConfiguration: { scanOnPush: true },
          imageTagMutability: "MUTABLE",
          encryptionConfigurations: [{ encryptionType: "AES256" }],
          // Images are rebuilt from source or mirrored again; nothing in them is data.
          forceDelete: true,
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-${short}`,
        {
          repository: repository.name,
          // Generous: a task still running an older digest must be able to restart.
          policy: JSON.stringify({
            rules: [{ rulePriority: 1, description: "keep the 30 most recent images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 }, action: { type: "expire" } }],
          }),
        },
        { parent: this },
      );
      const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
      const build =
        image.kind === "build"
          ? { context: { location: builds[image.build].context }, dockerfile: { location: join(builds[image.build].context, builds[image.build].dockerfile) } }
          : { context: { location: MIRROR_CONTEXT }, dockerfile: { inline: `FROM ${image.ref}\n` } };
      const pushed = new dockerBuild.Image(
        `${name}-${short}`,
        {
          ...build,
          platforms: ["linux/amd64"],
          push: true,
          tags: [pulumi.interpolate`${repository.repositoryUrl}:${image.kind === "build" ? version : tagOf(image.ref)}`],
          registries: [{ address: repository.repositoryUrl, username: token.userName, password: pulumi.secret(token.password) }],
        },
        { parent: this },
      );
      images.set(label, { ref: pulumi.interpolate`${repository.repositoryUrl}@${pushed.digest}`, repositoryArn: repository.arn });
    }
    this.images = images;
    this.registerOutputs({});
  }
}

/** `valkey/valkey:8.1.8` → `valkey`; `influxdb:1.12.4` → `influxdb`. */
export function repositoryName(ref: string): string {
  const path = ref.split("@")[0]!.split(":")[0]!;
  return path.slice(path.lastIndexOf("/") + 1);
}

function tagOf(ref: string): string {
  const withoutDigest = ref.split("@")[0]!;
  const tag = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1).split(":")[1];
  return tag ?? "mirror";
}
