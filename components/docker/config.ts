import { isIP } from "node:net";
import { z } from "zod";
import { field } from "../../config/fields";

/** A file on the Docker host (which is not this machine for ssh:// engines), so only its form is checked here. */
const hostFile = z
  .string()
  .regex(/^\/[^\0]*[^/]$/, { message: "expected an absolute path of a file on the Docker host" });

/** Docker publishes ports on an IP address of its host; a name or `host:port` fails only mid-deploy. */
const hostAddress = z.string().refine((value) => isIP(value) !== 0, {
  message: "expected an IP address of the Docker host, such as 127.0.0.1 or 0.0.0.0",
});

/** What goes between `http://` and `:port` in the stack's URLs. */
const hostName = z.string().refine((value) => isIP(value) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9])?)*$/.test(value), {
  message: "expected a host name or IP address, without scheme, port or path (e.g. analytics.example.com)",
});

const anyAddress = new Set(["0.0.0.0", "::"]);

/** `mixstack:docker`: how the stack lands on a Docker engine (`platform: docker`). */
export const dockerSection = z.strictObject({
  host: z
    .string()
    .regex(/^(unix|tcp|ssh|npipe):\/\//, { message: "expected unix://, tcp://, ssh:// or npipe:// address" })
    .optional()
    .describe("Docker engine address, e.g. ssh://deploy@analytics.example.com (default: DOCKER_HOST or the local socket)"),
  sshOpts: z
    .array(z.string())
    .optional()
    .describe('extra ssh options for an ssh:// host, e.g. ["-i", "~/.ssh/deploy"]'),
  publicHost: hostName
    .default("localhost")
    .describe("host name or IP address (no scheme or port) the SDKs and your browser use to reach the published ports (default localhost)"),
  bindAddress: hostAddress
    .default("0.0.0.0")
    .describe("IP address of the Docker host the ingest and Grafana ports are published on; 127.0.0.1 keeps them local (default 0.0.0.0)"),
  grafanaBindAddress: hostAddress
    .optional()
    .describe("IP address of the Docker host Grafana's port is published on (default: bindAddress); 127.0.0.1 keeps Grafana for a reverse proxy on the host or an SSH tunnel"),
  ingestPort: field.port(8080).describe("host port of the ingestion API (default 8080)"),
  grafanaPort: field.port(3000).describe("host port of Grafana (default 3000); differs from ingestPort unless the two are published on different addresses"),
  tls: z
    .strictObject({
      certFile: hostFile.describe(
        "ingest serves HTTPS with this certificate (chain, PEM, covering publicHost; a path on the Docker host, mounted read-only) and ingestUrl is https://; unset: plain HTTP",
      ),
      keyFile: hostFile.describe("the certificate's private key (PEM, a path on the Docker host readable by uid 1000, the services' user; mounted read-only)"),
    })
    .optional()
    .describe("TLS for ingest: it serves HTTPS itself with these files (both required)"),
  dataDir: z
    .string()
    .regex(/^\//, { message: "expected an absolute path on the Docker host" })
    .optional()
    .describe(
      "absolute host directory for the data: DIR/influxdb, DIR/queue, DIR/grafana, DIR/backups (unset: named Docker volumes)",
    ),
  namePrefix: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: "expected a Docker name prefix (letters, digits, _ . -)" })
    .optional()
    .describe("prefix of container, volume and network names (default mixstack-STACK)"),
  restartPolicy: z
    .enum(["unless-stopped", "always", "on-failure"])
    .default("unless-stopped")
    .describe("restart policy of the long-running containers (default unless-stopped)"),
  logMaxSize: z
    .string()
    .regex(/^\d+[kmg]$/, { message: 'expected a size such as "10m"' })
    .default("10m")
    .describe("json-file log rotation: size of one file (default 10m)"),
  logMaxFiles: field.int(5, 1, 100).describe("json-file log rotation: files kept per container (default 5)"),
}).superRefine((docker, context) => {
  // Two containers cannot publish one host port on overlapping addresses: Docker would refuse the second mid-deploy.
  const grafanaAddress = docker.grafanaBindAddress ?? docker.bindAddress;
  const overlap = grafanaAddress === docker.bindAddress || anyAddress.has(grafanaAddress) || anyAddress.has(docker.bindAddress);
  if (docker.grafanaPort === docker.ingestPort && overlap) {
    context.addIssue({ code: "custom", path: ["grafanaPort"], message: "must differ from ingestPort (both are published on the same host address)" });
  }
});

export type DockerConfig = z.output<typeof dockerSection>;

/**
 * Where the section publishes each service's public port on the Docker host: its keys name the
 * services they configure. A public service without keys of its own is published on its container
 * port, on `bindAddress`.
 */
export function publishedPorts(docker: DockerConfig): Record<string, { hostPort: number; address: string }> {
  return {
    ingest: { hostPort: docker.ingestPort, address: docker.bindAddress },
    grafana: { hostPort: docker.grafanaPort, address: docker.grafanaBindAddress ?? docker.bindAddress },
  };
}
