import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unwrapSecrets } from "../pulumi/mocks";
import { evaluateForDeploy, ofType, root } from "./support";

/**
 * Issue 17, item 7.
 * - Grafana's SQLite database must not live on NFS (EFS) on AWS: SQLite's locking relies on POSIX
 *   advisory locks, which "are broken on many NFS implementations" (sqlite.org/faq.html #5), WAL
 *   mode "does not work over a network filesystem" (sqlite.org/wal.html), and Grafana on EFS reports
 *   "database is locked" (grafana/grafana#115875: a 12.3 migration on EFS; helm/charts#19053).
 * - The GCP Artifact Registry remote repository pulls from Docker Hub anonymously unless it is given
 *   a Docker Hub user and access token ("Although pulling public images doesn't require
 *   authentication, authentication increases the download rate limit", Google's
 *   configure-remote-auth-docker-hub guide): Docker Hub's limits still apply to the first pull of
 *   each image, so nothing may claim otherwise, and credentials must be configurable.
 * - Pins: node 24.14.1 is a security release after 24.14.0 (CVE-2026-21637, -21710, -21712..-21717);
 *   valkey 8.1.11 is a security release after 8.1.8 (GHSA-f4q9-j22m-xqq9, and fixes to stream
 *   commands with WATCH, which the queue uses). At least these versions.
 *
 * Red on main (`it.fails` until phase 2).
 */

const version = (text: string) => text.split(".").map(Number);
const atLeast = (actual: string, minimum: string) => {
  const [a, m] = [version(actual), version(minimum)];
  for (let i = 0; i < Math.max(a.length, m.length); i++) if ((a[i] ?? 0) !== (m[i] ?? 0)) return (a[i] ?? 0) > (m[i] ?? 0);
  return true;
};

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path, ext) : ext.test(entry) ? [path] : [];
  });
}

describe("AWS: Grafana's SQLite database", () => {
  it.fails.each(["ec2-ebs", "fargate-efs"])("is not on EFS (stateStorage %s)", async (stateStorage) => {
    const evaluation = await evaluateForDeploy({ stack: "aws-grafana", values: { platform: "aws", aws: { region: "eu-west-1", stateStorage } } });
    const grafana = ofType(evaluation, "aws:ecs/taskDefinition:TaskDefinition").find((task) => String(task.inputs.family).endsWith("-grafana"))!;
    const containers = JSON.parse(String(unwrapSecrets(grafana.inputs.containerDefinitions))) as Array<{ name: string; mountPoints?: Array<{ sourceVolume: string; containerPath: string }> }>;
    const volumes = (grafana.inputs.volumes ?? []) as Array<{ name: string; efsVolumeConfiguration?: unknown }>;
    const mount = containers.find((c) => c.name === "grafana")!.mountPoints?.find((m) => m.containerPath === "/var/lib/grafana");
    const volume = mount && volumes.find((v) => v.name === mount.sourceVolume);
    expect(volume?.efsVolumeConfiguration, `grafana's /var/lib/grafana is on ${mount ? `volume ${mount.sourceVolume}` : "the task's own storage"}`).toBeUndefined();
  }, 60_000);
});

describe("GCP: the Docker Hub mirror", () => {
  it.fails("nothing in components/ or docs/ claims it avoids Docker Hub's rate limits", () => {
    const claims = [...filesUnder(join(root, "components"), /\.ts$/), ...filesUnder(join(root, "docs"), /\.md$/)].flatMap((file) => {
      // Sentences wrap across lines (and comment markers) in both code and Markdown.
      const text = readFileSync(file, "utf8").replace(/\n\s*(\*|\/\/)?\s*/g, " ");
      return [...text.matchAll(/[^.]*(no Docker Hub (rate|pull) limits?)[^.]*/gi)].map((m) => `${file.slice(root.length + 1)}: ${m[0].trim()}`);
    });
    expect(claims).toEqual([]);
  });

  it.fails("pulls with a Docker Hub user and token when the stack config names them", async () => {
    const tokenSecretVersion = "projects/acme-analytics/secrets/dockerhub-token/versions/latest";
    const evaluation = await evaluateForDeploy({
      stack: "gcp-dockerhub",
      values: { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", dockerHub: { username: "acme", tokenSecretVersion } } },
    });
    const mirror = ofType(evaluation, "gcp:artifactregistry/repository:Repository").find((r) => r.inputs.mode === "REMOTE_REPOSITORY")!;
    expect((unwrapSecrets(mirror.inputs) as any).remoteRepositoryConfig.upstreamCredentials).toEqual({
      usernamePasswordCredentials: { username: "acme", passwordSecretVersion: tokenSecretVersion },
    });
  }, 60_000);
});

describe("pinned versions", () => {
  it.fails("the services image runs on node 24.14.1 or a later 24.x patch, in every stage", () => {
    const tags = [...readFileSync(join(root, "Dockerfile"), "utf8").matchAll(/^FROM\s+(?:--platform=\S+\s+)?node:(\S+)/gm)].map((m) => m[1]!);
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) {
      const release = /^(\d+\.\d+\.\d+)-/.exec(tag)?.[1];
      expect(release, `node:${tag} is pinned to an exact release`).toBeDefined();
      expect(release!.startsWith("24.") && atLeast(release!, "24.14.1"), `node:${tag}`).toBe(true);
    }
  });

  it.fails("the queue container is valkey/valkey 8.1.11 or a later 8.1 patch", async () => {
    const { topology } = (await evaluateForDeploy({ stack: "pins", values: { platform: "docker" } })).stack;
    const queue = topology.services.find((s) => s.name === "queue")!;
    expect(queue.image.kind).toBe("pinned");
    const ref = queue.image.kind === "pinned" ? queue.image.ref : "";
    const release = /^valkey\/valkey:(8\.1\.\d+)$/.exec(ref)?.[1];
    expect(release, ref).toBeDefined();
    expect(atLeast(release!, "8.1.11"), ref).toBe(true);
  });

  it.fails("the docs name the versions the program pins (no stale 24.14.0 or 8.1.8 but in the upgrade notes)", () => {
    // An "Upgrading from …" section names the old pins on purpose, up to the next heading.
    const withoutUpgradeNotes = (text: string) => text.replace(/^(#+) Upgrading from[^\n]*\n[\s\S]*?(?=^#{1,6} |(?![\s\S]))/gm, "");
    const stale = [...filesUnder(join(root, "docs"), /\.md$/), join(root, "README.md")].flatMap((file) =>
      withoutUpgradeNotes(readFileSync(file, "utf8"))
        .split("\n")
        .filter((line) => /node:24\.14\.0|valkey\/valkey:8\.1\.8|Valkey 8\.1\.8/.test(line))
        .map((line) => `${file.slice(root.length + 1)}: ${line.trim().slice(0, 120)}`),
    );
    expect(stale).toEqual([]);
  });
});
