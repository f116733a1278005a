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
 * `/track` every 25 ms. Ingest trusts one proxy hop, so `X-Forwarded-For` names the client.
 */

const FLOOD_MS = 8_000;
const INGEST_LIMIT = 768 * MB;

function objectOfKeys(bytes: number, token?: string): Buffer {
  const parts: string[] = [];
  let size = 40;
  for (let index = 0; size < bytes; index += 1) {
    const part = `"k${index.toString(36)}":${index}`;
    parts.push(part);
    size += part.length + 1;
  }
  const properties = token ? `{"token":"${token}",${parts.join(",")}}` : `{${parts.join(",")}}`;
  return Buffer.from(`{"event":"x","properties":${properties}}`);
}

describe("abuse: a flood of large bodies", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startAbusePipeline({ ingestEnv: { MIXSTACK_TRUSTED_PROXY_HOPS: "1" } });
  });

  it.fails("keeps ingest's memory below its limit and small requests of other clients within 100 ms (p99)", async () => {
    const ingestPid = pipeline.ingest!.pid!;
    const rssBefore = residentBytes(ingestPid);
    const huge = objectOfKeys(10 * MB);
    const large = objectOfKeys(MB - 4096, pipeline.token);
    const attacker = { "Content-Type": "application/json", "X-Forwarded-For": "203.0.113.66" };
    const stopAt = Date.now() + FLOOD_MS;
    const answers = new Map<string, number>();
    const count = (key: string) => answers.set(key, (answers.get(key) ?? 0) + 1);

    const flood = Array.from({ length: 4 }, async (_, connection) => {
      for (let round = 0; Date.now() < stopAt; round += 1) {
        const body = (round + connection) % 2 === 0 ? huge : large;
        try {
          const reply = await request(`${pipeline.ingestUrl}/track?verbose=1`, { headers: attacker, body, timeoutMs: 15_000 });
          count(`${body === huge ? "10MiB" : "1MiB"} ${reply.status}`);
        } catch {
          count(`${body === huge ? "10MiB" : "1MiB"} dropped`);
        }
      }
    });

    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(ingestPid))), 50);
    const latencies: number[] = [];
    const failures: string[] = [];
    const probe = (async () => {
      for (let index = 0; Date.now() < stopAt; index += 1) {
        const started = performance.now();
        const reply = await request(`${pipeline.ingestUrl}/track?verbose=1&ip=0`, {
          headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": `198.51.100.${1 + (index % 200)}` },
          body: formBody({ event: "small", properties: { token: pipeline.token, distinct_id: `p${index}`, $insert_id: `small-${index}` } }),
        });
        latencies.push(performance.now() - started);
        if (reply.status !== 200 || verboseStatus(reply) !== 1) failures.push(`${reply.status} ${reply.text.slice(0, 100)}`);
        const next = started + 25 * 1;
        if (next > performance.now()) await new Promise((resolve) => setTimeout(resolve, next - performance.now()));
      }
    })();
    await Promise.all([...flood, probe]);
    clearInterval(sampler);

    const p99 = percentile(latencies, 0.99);
    figures("large-bodies", {
      floodMs: FLOOD_MS,
      ingestRssBeforeMb: Math.round(rssBefore / MB),
      ingestRssPeakMb: Math.round(peak / MB),
      probes: latencies.length,
      p50Ms: +percentile(latencies, 0.5).toFixed(1),
      p99Ms: +p99.toFixed(1),
      maxMs: +Math.max(...latencies).toFixed(1),
      failures: failures.length,
      attackerAnswers: Object.fromEntries(answers),
    });

    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(100);
    expect(peak).toBeLessThan(INGEST_LIMIT);
    expect(p99).toBeLessThanOrEqual(100);
  });
});
