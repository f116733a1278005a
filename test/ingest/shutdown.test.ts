import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../services/dev/ports";
import type { EventItem } from "../../services/core/queue";
import { redisClient, startTestRedis } from "../harness/services";
import { b64, readStream, startIngestProcess, TOKEN } from "./support";

/**
 * SIGTERM on `mixstack ingest` (its own process): it stops accepting connections, finishes the
 * requests in flight, and exits within the grace period; no request answered `1` has events
 * missing from the stream.
 */

const GRACE_MS = 4_000;

/** Starts a POST whose body is only half sent; `finish()` sends the rest and resolves with the reply. */
function halfSentRequest(url: string, body: string) {
  const target = new URL(`${url}/track?verbose=1`);
  const half = Math.floor(body.length / 2);
  let resolveReply: (value: { status: number; text: string }) => void;
  let rejectReply: (error: Error) => void;
  const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
    resolveReply = resolve;
    rejectReply = reject;
  });
  const outgoing = request(target, { method: "POST", agent: false, headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) } }, (response) => {
    let text = "";
    response.on("data", (chunk) => (text += chunk));
    response.on("end", () => resolveReply({ status: response.statusCode ?? 0, text }));
  });
  outgoing.on("error", (error) => rejectReply(error));
  reply.catch(() => undefined); // the test awaits it later; a reset before then is expected in one case
  outgoing.write(body.slice(0, half));
  const connected = new Promise<void>((resolve) => outgoing.on("socket", (socket) => socket.on("connect", () => resolve())));
  return {
    connected,
    reply,
    finish() {
      outgoing.end(body.slice(half));
      return reply;
    },
  };
}

function refusesConnections(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ port: Number(port), host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("graceful shutdown", () => {
  it("SIGTERM under load: every request answered 1 has its events on the stream, and the process exits 0", async () => {
    const redis = await startTestRedis();
    const client = await redisClient(redis.url);
    // Six senders on one address, as fast as they can: the per-address budget is not what this tests.
    const ingest = await startIngestProcess(redis.url, { MIXSTACK_SHUTDOWN_GRACE_MS: String(GRACE_MS), LOG_LEVEL: "info", MIXSTACK_CLIENT_MS_PER_SECOND: "0" });

    const acknowledged: string[][] = [];
    const failures: string[] = [];
    let sequence = 0;
    let running = true;
    const loop = async (batchSize: number) => {
      while (running) {
        const ids = Array.from({ length: batchSize }, () => `sigterm-${sequence++}`);
        const events = ids.map((id) => ({ event: "load", properties: { token: TOKEN, $insert_id: id } }));
        try {
          const response = await fetch(`${ingest.url}/track`, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: `data=${encodeURIComponent(b64(events))}`,
            signal: AbortSignal.timeout(20_000),
          });
          const text = await response.text();
          if (text === "1") acknowledged.push(ids);
          else failures.push(`${response.status} ${text}`);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
          if (!ingest.process.running) return;
        }
      }
    };
    const loops = [1, 1, 1, 1, 50, 50].map((size) => loop(size));

    await waitFor("load flowing", () => acknowledged.length >= 200);
    const slow = halfSentRequest(ingest.url, `data=${encodeURIComponent(b64([{ event: "in flight", properties: { token: TOKEN, $insert_id: "in-flight" } }]))}`);
    await slow.connected;
    const signalledAt = Date.now();
    ingest.process.signal("SIGTERM");
    await waitFor("the listener closed", () => refusesConnections(ingest.url), { timeoutMs: 5_000 });
    const slowReply = await slow.finish();
    const exitCode = await ingest.process.waitForExit(GRACE_MS + 10_000);
    const exitedAfterMs = Date.now() - signalledAt;
    running = false;
    await Promise.all(loops);

    expect(slowReply).toEqual({ status: 200, text: '{"error":null,"status":1}' });
    expect(exitCode).toBe(0);
    expect(exitedAfterMs).toBeLessThan(GRACE_MS + 5_000);
    // No request got an HTTP error: the ones that did not get `1` could not connect at all.
    expect(failures.filter((failure) => /^\d{3} /.test(failure))).toEqual([]);

    const stored = new Set((await readStream(client)).flatMap(({ entry }) => (entry.items as EventItem[]).map((item) => item.insertId)));
    const missing = acknowledged.flat().filter((id) => !stored.has(id));
    expect(acknowledged.length).toBeGreaterThan(200);
    expect(missing).toEqual([]);
    expect(stored.has("in-flight")).toBe(true);

    // JSON logs: the drain is visible, one JSON object per line.
    const lines = ingest.process.output.join("").split("\n").filter(Boolean);
    const messages = lines.map((line) => JSON.parse(line) as { msg: string; service: string });
    expect(messages.map((message) => message.msg)).toEqual(expect.arrayContaining(["ingest listening", "draining", "stopped"]));
    expect(new Set(messages.map((message) => message.service))).toEqual(new Set(["ingest"]));
  });

  it("exits within the grace period even when a request never finishes", async () => {
    const redis = await startTestRedis();
    const ingest = await startIngestProcess(redis.url, { MIXSTACK_SHUTDOWN_GRACE_MS: "1500" });
    const stuck = halfSentRequest(ingest.url, `data=${"A".repeat(1000)}`);
    await stuck.connected;
    const signalledAt = Date.now();
    ingest.process.signal("SIGTERM");
    const exitCode = await ingest.process.waitForExit(15_000);
    expect(exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(1500 + 5_000);
    await expect(stuck.reply).rejects.toThrow();
  });
});
