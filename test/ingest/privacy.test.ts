import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { readSettings, SettingsError } from "../../services/core/settings";
import { redactUrl } from "../../services/core/redact";
import { urlForLog } from "../../services/ingest/server";
import { readIngestSettings } from "../../services/ingest/settings";
import { startServiceProcess, type ManagedProcess } from "../../services/dev/processes";
import { startTestRedis, track } from "../harness/services";
import { SECRET, TOKEN, b64, readStream, startIngestProcess, startIngestStack, type Redis } from "./support";

/**
 * What ingest keeps of a person and of its secrets: `$ip` is dropped like `ip` unless
 * MIXSTACK_KEEP_IP, `/import` does not take the public token as credentials unless
 * MIXSTACK_IMPORT_TOKEN_AUTH, no log line holds `api_key` (or `data`), and no settings error prints a
 * password from a URL.
 */

const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString("base64")}`;

async function track$ip(url: string, properties: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${url}/track?ip=0`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: `data=${encodeURIComponent(b64([{ event: "e", properties: { token: TOKEN, distinct_id: "u", ...properties } }]))}`,
  });
  expect(await response.text()).toBe("1");
}

describe("ingest keeps no address unless told to", () => {
  let client: Redis;
  let url: string;
  let keeping: { url: string };

  beforeAll(async () => {
    const stack = await startIngestStack();
    client = stack.client;
    url = stack.url;
    keeping = await startIngestProcess(stack.redis.url, { MIXSTACK_KEEP_IP: "true" });
  });

  it("drops $ip (and ip) from /track events by default, and keeps $ip with MIXSTACK_KEEP_IP=true", async () => {
    await track$ip(url, { $ip: "81.2.69.142", ip: "81.2.69.143", plan: "pro" });
    await track$ip(keeping.url, { $ip: "81.2.69.142", plan: "pro" });
    const events = (await readStream(client)).flatMap(({ entry }) => (entry.kind === "track" ? entry.items : []));
    expect(events.map((event) => event.properties)).toEqual([{ plan: "pro" }, { $ip: "81.2.69.142", plan: "pro" }]);
  });

  it("has both off by default: $ip dropped, /import refusing the project token", () => {
    const settings = readIngestSettings({ REDIS_URL: "redis://127.0.0.1:6379", MIXSTACK_TOKEN: "T" });
    expect([settings.MIXSTACK_KEEP_IP, settings.MIXSTACK_IMPORT_TOKEN_AUTH]).toEqual([false, false]);
  });
});

describe("/import credentials and logs", () => {
  let ingest: { process: ManagedProcess; url: string };
  let withToken: { url: string };

  beforeAll(async () => {
    const redis = await startTestRedis();
    ingest = await startIngestProcess(redis.url, { LOG_LEVEL: "trace" });
    withToken = await startIngestProcess(redis.url, { MIXSTACK_IMPORT_TOKEN_AUTH: "true" });
  });

  let sequence = 0;
  const importBody = () => JSON.stringify([{ event: "e", properties: { time: Date.now(), distinct_id: "u", $insert_id: `import-${(sequence += 1)}` } }]);

  it("refuses the project token as /import credentials unless MIXSTACK_IMPORT_TOKEN_AUTH=true", async () => {
    const post = (base: string, authorization: string) =>
      fetch(`${base}/import?strict=1`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: authorization }, body: importBody() });
    expect((await post(ingest.url, basic(TOKEN))).status).toBe(401);
    expect((await post(ingest.url, basic(SECRET))).status).toBe(200);
    expect((await post(withToken.url, basic(TOKEN))).status).toBe(200);
  });

  it("never writes an api_key from an /import URL to its log, valid or not", async () => {
    for (const key of [SECRET, "wrong-key-1234"]) {
      const response = await fetch(`${ingest.url}/import?api_key=${key}&data=${encodeURIComponent(b64({ event: "e", properties: { time: Date.now(), token: TOKEN } }))}`);
      await response.text();
    }
    expect(ingest.process.output.join("")).not.toContain(SECRET);
    expect(ingest.process.output.join("")).not.toContain("wrong-key-1234");
  });

  it.each([
    ["/import?api_key=S3CRET&data=eyJldmVudCI6ImUifQ", "/import?api_key=…&data=…"],
    ["/track", "/track"],
    ["/track?", "/track?"],
  ])("logs %s as %s (parameter names only)", (url, logged) => {
    expect(urlForLog(url)).toBe(logged);
  });
});

describe("secrets in settings errors", () => {
  it.each([
    ["redis://:s3cret@queue:6379", "redis://:***@queue:6379"],
    ["rediss://default:s3cret@queue:6380/0", "rediss://default:***@queue:6380/0"],
    ["http://admin:s3cret@influxdb:8086", "http://admin:***@influxdb:8086"],
    ["redis://queue:6379", "redis://queue:6379"],
    ["not a url", "not a url"],
  ])("redactUrl(%s) is %s", (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it("a wrong REDIS_URL is named without its password", () => {
    const schema = z.object({ REDIS_URL: z.string().regex(/^rediss?:\/\/[^/]+:\d+$/, { message: "expected redis://host:port" }) });
    let message = "";
    try {
      readSettings("worker", schema, { REDIS_URL: "redis://:s3cret@queue" });
    } catch (error) {
      if (error instanceof SettingsError) message = error.message;
    }
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("redis://:***@queue");
    expect(message).not.toContain("s3cret");
  });

  it("mixstack worker started with an unusable REDIS_URL says so without printing the password", async () => {
    let output = "";
    try {
      const worker = await startServiceProcess({
        command: "worker",
        env: { REDIS_URL: "redis://:s3cret@ bad host", INFLUX_URL: "http://127.0.0.1:1", METRICS_PORT: "0" },
        ready: () => new Promise(() => undefined),
      });
      track(worker);
    } catch (error) {
      output = (error as Error).message;
    }
    expect(output).toContain("REDIS_URL");
    expect(output).not.toContain("s3cret");
  });
});
