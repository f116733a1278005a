import { describe, expect, it } from "vitest";
import { isDigestRef, isDockerHub, mirroredRef, registryHost } from "../../components/gcp/image-refs";

const MIRROR = "europe-west1-docker.pkg.dev/acme/mx-dockerhub";

describe("image references on GCP", () => {
  it.each([
    ["influxdb:1.12.4", true, `${MIRROR}/library/influxdb:1.12.4`],
    ["valkey/valkey:8.1.8", true, `${MIRROR}/valkey/valkey:8.1.8`],
    ["docker.io/library/redis:7.4.2", true, `${MIRROR}/library/redis:7.4.2`],
    ["ghcr.io/acme/tool:1.0.0", false, "ghcr.io/acme/tool:1.0.0"],
    ["registry:5000/x/y:1.2.3", false, "registry:5000/x/y:1.2.3"],
    [`influxdb@sha256:${"a".repeat(64)}`, true, `${MIRROR}/library/influxdb@sha256:${"a".repeat(64)}`],
  ])("%s (Docker Hub: %s) is pulled as %s", (ref, hub, mirrored) => {
    expect([isDockerHub(ref), mirroredRef(ref, MIRROR)]).toEqual([hub, mirrored]);
  });

  it.each([
    [`${MIRROR}/services:0.1.0@sha256:${"0".repeat(64)}`, true],
    [`${MIRROR}/services:0.1.0`, false],
    [`${MIRROR}/services@sha256:abc`, false],
  ])("%s is pinned by digest: %s", (ref, pinned) => {
    expect(isDigestRef(ref)).toBe(pinned);
  });

  it("uses the region's Docker host of Artifact Registry", () => {
    expect(registryHost("us-central1")).toBe("us-central1-docker.pkg.dev");
  });
});
