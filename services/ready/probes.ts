import { createRedisClient } from "../core/redis";
import { redactUrl } from "../core/redact";
import type { ReadySettings } from "./settings";

/** One dependency to wait for: a name for messages, and a check that resolves when it answers. */
export interface Probe {
  what: string;
  check: () => Promise<boolean>;
}

/** The probes of the dependencies the environment names (none: nothing to wait for). */
export function probesFor(settings: ReadySettings, fetchImpl: typeof fetch = fetch): Probe[] {
  const probes: Probe[] = [];
  if (settings.REDIS_URL) {
    const url = settings.REDIS_URL;
    probes.push({
      what: `the queue at ${redactUrl(url)}`,
      check: async () => {
        const client = createRedisClient(url, { reconnect: { kind: "never" }, connectTimeoutMs: 5_000 });
        client.on("error", () => {});
        try {
          await client.connect();
          return (await client.ping()) === "PONG";
        } finally {
          await client.close().catch(() => {});
        }
      },
    });
  }
  if (settings.INFLUX_URL) {
    const url = new URL("/ping", settings.INFLUX_URL).toString();
    probes.push({ what: `InfluxDB at ${settings.INFLUX_URL}`, check: async () => (await fetchImpl(url, { signal: AbortSignal.timeout(5_000) })).status === 204 });
  }
  return probes;
}
