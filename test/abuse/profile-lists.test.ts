import { beforeAll, describe, expect, it } from "vitest";
import type { Pipeline } from "../../services/dev/pipeline";
import { applyProfilesScript } from "../../services/worker/profile-store";
import { redisClient } from "../harness/services";
import { engage, figures, startAbusePipeline, track, verboseStatus, waitForDrained } from "./support";

/**
 * Finding 3 of issue 12, "quadratic `$append`/`$union`": the profile script read and rewrote the
 * whole list for every append, so four 107 KiB `/engage` requests on one profile ran 0.75, 2.2,
 * 3.5 and 4.7 s, blocking Redis (a `/track` got 503 meanwhile). Here: four requests of 500 appends
 * to one list, each timed inside Redis (`SLOWLOG` of the profile script).
 */

const REQUESTS = 4;
const APPENDS = 500;

describe("abuse: $append and $union on one profile", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startAbusePipeline();
  });

  it("the time Redis spends on the N-th request of appends to one list is about that of the first", async () => {
    const redis = await redisClient(pipeline.redis.url);
    await redis.configSet("slowlog-log-slower-than", "0");
    await redis.configSet("slowlog-max-len", "10000");
    // Loaded up front, so that every run is an EVALSHA the log can attribute to the script.
    await redis.sendCommand(["SCRIPT", "LOAD", applyProfilesScript.source]);
    const scriptMicros: number[] = [];
    const trackMs: number[] = [];
    for (let request = 0; request < REQUESTS; request += 1) {
      await redis.sendCommand(["SLOWLOG", "RESET"]);
      const updates = Array.from({ length: APPENDS }, (_, index) => ({
        $token: pipeline.token,
        $distinct_id: "collector",
        $append: { visits: `visit-${request}-${index}-${"p".repeat(40)}` },
      }));
      expect(verboseStatus(await engage(pipeline, updates))).toBe(1);
      // A /track while the worker applies them: it must not wait for Redis.
      const started = Date.now();
      const tracked = await track(pipeline, { event: "meanwhile", properties: { token: pipeline.token, distinct_id: "other", $insert_id: `meanwhile-${request}` } });
      trackMs.push(Date.now() - started);
      expect(tracked.status).toBe(200);
      await waitForDrained(pipeline);
      const log = (await redis.sendCommand(["SLOWLOG", "GET", "10000"])) as Array<[number, number, number, string[]]>;
      const micros = log.filter((entry) => entry[3]?.[0]?.toUpperCase().startsWith("EVAL") && entry[3].includes(applyProfilesScript.sha)).reduce((sum, entry) => sum + Number(entry[2]), 0);
      scriptMicros.push(micros);
    }
    const stored = (await redis.hGet("mx:profile:collector", "visits")) ?? "";
    figures("append-cost", { requests: REQUESTS, appendsPerRequest: APPENDS, scriptMs: scriptMicros.map((micros) => +(micros / 1000).toFixed(2)), trackMs, storedBytes: stored.length });

    const [first] = scriptMicros;
    const last = scriptMicros[scriptMicros.length - 1]!;
    expect(first).toBeGreaterThan(0);
    // Linear: the last request costs what the first did, within the noise of a shared machine (a
    // factor 3 of the first or of 10 ms); before, the fourth cost 7 times the first (656 → 4,718 ms).
    expect(last).toBeLessThanOrEqual(3 * Math.max(first!, 10_000));
    expect(Math.max(...trackMs)).toBeLessThan(1000);
  });
});
