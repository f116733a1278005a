import { createHash } from "node:crypto";
import type { PlatformFakes } from "../platform";

/** What the Docker engine would report for the stack's resources, faked deterministically for offline evaluation. */
export const dockerFakes = (): PlatformFakes => ({
  outputs(type, name, inputs) {
    const digest = (salt: string) => `sha256:${createHash("sha256").update(`${salt}:${type}:${name}`).digest("hex")}`;
    switch (type) {
      case "docker:index/image:Image":
        return { repoDigest: digest("image") };
      case "docker:index/remoteImage:RemoteImage":
        return { imageId: digest("remote"), repoDigest: `${String(inputs.name)}@${digest("repo")}` };
      case "docker:index/container:Container":
        // A one-shot container (`attach`) that finished well.
        return { exitCode: 0 };
      default:
        return undefined;
    }
  },
});
