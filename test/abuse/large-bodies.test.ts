import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Pipeline } from "../../services/dev/pipeline";
import { MB, figures, formBody, percentile, request, residentBytes, startAbusePipeline, verboseStatus } from "./support";

/**
 * Finding 5 of issue 12, "pre-auth CPU and memory": the body was parsed before the token was
 * checked and the container guard did not count object keys, so a 10 MiB object of keys cost
 * 1.34 s of ingest's one thread and ~200 MB, four at once peaked at 746 MB against the 768 MB
 * limit, and small requests queued behind them; there was no rate limit nor connection cap. Here:
 * four connections from one client address flood ingest for 8 s with objects of keys (10 MiB ones,
 * and ones just under 1 MiB that carry the public token), while another address sends one small
 * `/track` every 25 ms. Ingest trusts one proxy hop, so `X-Forwarded-For` names the client. The
 * attacker runs in a process of its own (`fixtures/flood.cjs`), as it would on another machine.
 */

const FLOOD_MS = 8_000;
const INGEST_LIMIT = 768 * MB;

/** The attacker: `fixtures/flood.cjs` in a process of its own; resolves with its answer counts. */
function flood(url: string, token: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, "fixtures", "flood.cjs"), `${url}/track?verbose=1`, token, "4", String(FLOOD_MS), "203.0.113.66"], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(output) as Record<string, number>) : reject(new Error(`flood exited with ${code}`))));
  });
}

describe("abuse: a flood of large bodies", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startAbusePipeline({ ingestEnv: { MIXSTACK_TRUSTED_PROXY_HOPS: "1" } });
  });

  it("keeps ingest's memory below its limit and small requests of other clients within 100 ms (p99)", async () => {
    const ingestPid = pipeline.ingest!.pid!;
    const rssBefore = residentBytes(ingestPid);
    const failures: string[] = [];
    /** One small /track every 25 ms from addresses of their own until `stopAt`; their latencies. */
    const probe = async (stopAt: number, tag: string): Promise<number[]> => {
      const latencies: number[] = [];
      for (let index = 0; Date.now() < stopAt; index += 1) {
        const started = performance.now();
        const reply = await request(`${pipeline.ingestUrl}/track?verbose=1&ip=0`, {
          headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": `198.51.100.${1 + (index % 200)}` },
          body: formBody({ event: "small", properties: { token: pipeline.token, distinct_id: `p${index}`, $insert_id: `${tag}-${index}` } }),
        });
        latencies.push(performance.now() - started);
        if (reply.status !== 200 || verboseStatus(reply) !== 1) failures.push(`${reply.status} ${reply.text.slice(0, 100)}`);
        const next = started + 25;
        if (next > performance.now()) await new Promise((resolve) => setTimeout(resolve, next - performance.now()));
      }
      return latencies;
    };
    // The same probes without the flood first: what the machine gives right now (it is shared).
    const quiet = await probe(Date.now() + 4_000, "quiet");
    const attack = flood(pipeline.ingestUrl!, pipeline.token);
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(ingestPid))), 50);
    const [answers, latencies] = await Promise.all([attack, probe(Date.now() + FLOOD_MS, "flood")]);
    clearInterval(sampler);

    const p99 = percentile(latencies, 0.99);
    const quietP99 = percentile(quiet, 0.99);
    figures("large-bodies", {
      quietP50Ms: +percentile(quiet, 0.5).toFixed(1),
      quietP99Ms: +quietP99.toFixed(1),
      floodMs: FLOOD_MS,
      ingestRssBeforeMb: Math.round(rssBefore / MB),
      ingestRssPeakMb: Math.round(peak / MB),
      probes: latencies.length,
      p50Ms: +percentile(latencies, 0.5).toFixed(1),
      p99Ms: +p99.toFixed(1),
      maxMs: +Math.max(...latencies).toFixed(1),
      failures: failures.length,
      attackerAnswers: answers,
    });

    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(100);
    expect(peak).toBeLessThan(INGEST_LIMIT);
    // 100 ms on a quiet machine (where small requests take a few ms); on a loaded one, what the
    // machine itself costs the probes (their p99 without the flood, beyond 10 ms) comes on top.
    expect(p99).toBeLessThanOrEqual(100 + Math.max(0, quietP99 - 10));
  });
});
