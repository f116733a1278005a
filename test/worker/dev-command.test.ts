import { exec } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { InfluxClient } from "../../services/core/influx";
import { freePort, waitFor } from "../../services/dev/ports";
import { ManagedProcess, repoRoot } from "../../services/dev/processes";
import { scratchDir, track } from "../harness/services";

const shell = promisify(exec);

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("mixstack dev", () => {
  it("starts redis-server, influxd, ingest and the worker on the given ports, prints a curl that works, and stops everything on Ctrl-C", async () => {
    const [ingestPort, redisPort, influxPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const dir = scratchDir("dev");
    const dev: ManagedProcess = track(
      new ManagedProcess({
        name: "mixstack dev",
        command: process.execPath,
        args: [
          join(repoRoot, "bin", "mixstack.cjs"),
          "dev",
          "--dir", dir,
          "--ingest-port", String(ingestPort),
          "--redis-port", String(redisPort),
          "--influx-port", String(influxPort),
          "--metrics-port", String(metricsPort),
          "--token", "tok-dev",
        ],
        cwd: repoRoot,
        env: { LOG_LEVEL: "warn" },
        ready: () => waitFor("the dev banner", () => dev.output.join("").includes("Count what arrived"), { timeoutMs: 90_000 }).then(() => undefined),
      }),
    );
    await dev.start();
    const banner = dev.output.join("");
    expect(banner).toContain(`ingest     http://127.0.0.1:${ingestPort}`);
    expect(banner).toContain(`redis      redis://127.0.0.1:${redisPort}`);
    expect(banner).toContain(`influxdb   http://127.0.0.1:${influxPort}`);
    expect(banner).toContain(`worker 1   http://127.0.0.1:${metricsPort}/metrics`);

    const curl = /^\s+(curl -s "http:\/\/127\.0\.0\.1:\d+\/track.*)$/m.exec(banner)?.[1];
    expect(curl).toBeDefined();
    const { stdout } = await shell(curl!);
    expect(JSON.parse(stdout)).toEqual({ error: null, status: 1 });
    const influx = new InfluxClient({ url: `http://127.0.0.1:${influxPort}` });
    await waitFor("the curl's event in InfluxDB", async () => (await influx.rows('SELECT count("insert_id") FROM "events"', { db: "mixevents" }))[0]?.count === 1, {
      timeoutMs: 30_000,
    });
    const countCurl = /^\s+(curl -s -G .*)$/m.exec(banner)?.[1];
    expect(JSON.parse((await shell(countCurl!)).stdout).results[0].series[0].values[0][1]).toBe(1);
    // The query service's printed segmentation counts that event's person.
    const reportCurl = /^\s+(curl -s -u \S+: "http:\/\/127\.0\.0\.1:\d+\/api\/query\/segmentation.*)$/m.exec(banner)?.[1];
    expect(banner).toMatch(/^ {2}query {6}http:\/\/127\.0\.0\.1:\d+ {3}\(query secret \S+\)$/m);
    const today = new Date().toISOString().slice(0, 10);
    expect(JSON.parse((await shell(reportCurl!)).stdout).data.values.hello[today]).toBe(1);

    dev.signal("SIGINT");
    expect(await dev.waitForExit(60_000)).toBe(0);
    expect(dev.output.join("")).toContain("stopped");
    for (const port of [ingestPort, redisPort, influxPort, metricsPort]) expect(await accepts(port)).toBe(false);
  });

  it("refuses a bad flag with exit code 2 and the usage", async () => {
    const result = await shell(`"${process.execPath}" "${join(repoRoot, "bin", "mixstack.cjs")}" dev --ingest-port nope`).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining("--ingest-port must be a port number") });
  });
});
