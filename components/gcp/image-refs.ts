/**
 * Image references on GCP. The VM pulls third-party images through an Artifact Registry remote
 * repository that mirrors Docker Hub (no Docker Hub rate limits, no internet needed for pulls, the
 * VM authenticates with its service account); images of other registries are pulled as they are.
 */

/** `europe-west1-docker.pkg.dev`. */
export function registryHost(region: string): string {
  return `${region}-docker.pkg.dev`;
}

/** `europe-west1-docker.pkg.dev/acme/mixstack-prod`. */
export function repositoryPath(region: string, project: string, repository: string): string {
  return `${registryHost(region)}/${project}/${repository}`;
}

/** True for references without a registry host (`influxdb:1.12.4`, `valkey/valkey:8.1.8`). */
export function isDockerHub(ref: string): boolean {
  const first = ref.split("/")[0]!;
  const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return !hasHost || first === "docker.io" || first === "registry-1.docker.io";
}

/** The reference through the Docker Hub mirror: `influxdb:1.12.4` → `<mirror>/library/influxdb:1.12.4`. */
export function mirroredRef(ref: string, mirror: string): string {
  if (!isDockerHub(ref)) return ref;
  const path = ref.replace(/^(docker\.io|registry-1\.docker\.io)\//, "");
  return `${mirror}/${path.includes("/") ? path : `library/${path}`}`;
}

/** `<repository>/<image>@sha256:<digest>` from a pushed image's `ref` (`<tag>@sha256:...`). */
export function isDigestRef(ref: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(ref);
}
