import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../services/dev/ports";
import type { EventItem, ProfileUpdate, QueueEntry } from "../../services/core/queue";
import { readStream, startIngestStack, TOKEN, type Redis } from "./support";

/**
 * The official `mixpanel-browser` (2.83.0 UMD build, unmodified) in headless Chromium, on a page of
 * another origin than ingest (so CORS with credentials is real): batch mode, non-batch mode,
 * sendBeacon when the page is hidden, identify and track_links all reach the stream.
 */

const SDK = readFileSync(join(__dirname, "..", "..", "node_modules", "mixpanel-browser", "dist", "mixpanel.umd.js"));

let browser: Browser;
let pageOrigin: string;
let ingestUrl: string;
let client: Redis;
let pageServer: Server;

function page(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script src="/mixpanel.js"></script></head><body>${body}</body></html>`;
}

beforeAll(async () => {
  const stack = await startIngestStack();
  client = stack.client;
  // The page is served from 127.0.0.1, ingest is called as localhost: two origins.
  ingestUrl = stack.url.replace("127.0.0.1", "localhost");
  pageServer = createServer((request, response) => {
    if (request.url === "/mixpanel.js") {
      response.writeHead(200, { "Content-Type": "text/javascript" });
      response.end(SDK);
    } else if (request.url?.startsWith("/next")) {
      response.writeHead(200, { "Content-Type": "text/html" });
      response.end(page("<p id=next>next page</p>"));
    } else {
      response.writeHead(200, { "Content-Type": "text/html" });
      response.end(page('<a id="link" href="/next?from=link">go</a>'));
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
});

interface Session {
  context: BrowserContext;
  page: Page;
  requests: Request[];
}

/**
 * A fresh browser context (own localStorage) on the page, with mixpanel initialised. Calls to
 * `navigator.sendBeacon` are logged to sessionStorage (the SDK looks the function up late, to allow
 * exactly this), because a beacon sent while a page unloads is not reported as a request.
 */
async function open(config: Record<string, unknown>): Promise<Session> {
  const context = await browser.newContext();
  await context.addInitScript(`
    const original = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, data) => {
      const log = JSON.parse(sessionStorage.getItem("beacons") || "[]");
      log.push(String(url));
      sessionStorage.setItem("beacons", JSON.stringify(log));
      return original(url, data);
    };
  `);
  const tab = await context.newPage();
  const session: Session = { context, page: tab, requests: [] };
  context.on("request", (request) => {
    if (request.url().startsWith(ingestUrl)) session.requests.push(request);
  });
  await tab.goto(`${pageOrigin}/`);
  await tab.evaluate(`mixpanel.init(${JSON.stringify(TOKEN)}, ${JSON.stringify({ api_host: ingestUrl, ...config })})`);
  return session;
}

/** The replies ingest gave to the session's requests for `route`. */
async function replies(session: Session, route: string) {
  const matching = session.requests.filter((request) => new URL(request.url()).pathname.startsWith(`/${route}`));
  return Promise.all(
    matching.map(async (request) => {
      const response = await request.response();
      if (!response) throw new Error(`no response to ${request.url()}`);
      const headers = await response.allHeaders();
      return {
        status: response.status(),
        body: await response.text(),
        allowOrigin: headers["access-control-allow-origin"],
        allowCredentials: headers["access-control-allow-credentials"],
      };
    }),
  );
}

async function entries(): Promise<QueueEntry[]> {
  return (await readStream(client)).map(({ entry }) => entry);
}

async function eventsNamed(name: string, predicate: (item: EventItem) => boolean = () => true): Promise<EventItem[]> {
  return (await entries())
    .filter((entry) => entry.kind === "track")
    .flatMap((entry) => entry.items as EventItem[])
    .filter((item) => item.event === name && predicate(item));
}

function waitForEvent(name: string, predicate?: (item: EventItem) => boolean): Promise<EventItem[]> {
  return waitFor(`event "${name}" on the stream`, async () => {
    const found = await eventsNamed(name, predicate);
    return found.length > 0 ? found : undefined;
  }, { timeoutMs: 30_000 });
}

describe("mixpanel-browser in headless Chromium", () => {
  it("default batch mode: events, identify and people updates are accepted with CORS and reach the stream", async () => {
    const session = await open({ batch_flush_interval_ms: 200 });
    await session.page.evaluate(`
      mixpanel.track("Batch Event", { plan: "free", n: 1 });
      mixpanel.identify("U-batch");
      mixpanel.people.set({ plan: "pro" });
      mixpanel.track("After Identify");
    `);
    const [event] = await waitForEvent("Batch Event");
    expect(event!.properties).toMatchObject({ plan: "free", n: 1, mp_lib: "web", $lib_version: "2.83.0", mp_sent_by_lib_version: "2.83.0" });
    expect(event!.distinctId).toMatch(/^\$device:/);
    expect(Number.isInteger(event!.time)).toBe(true);
    expect(event!.properties.token).toBeUndefined();

    // identify: the $identify event links the device to the user, later events carry $user_id.
    const [identify] = await waitForEvent("$identify", (item) => item.distinctId === "U-batch");
    expect(identify!.properties.$anon_distinct_id).toBe(event!.distinctId);
    expect(identify!.properties.$user_id).toBe("U-batch");
    expect(identify!.properties.$device_id).toBe(event!.properties.$device_id);
    const [after] = await waitForEvent("After Identify");
    expect(after).toMatchObject({ distinctId: "U-batch", properties: { $user_id: "U-batch" } });

    const profile = await waitFor("the people.set on the stream", async () =>
      (await entries())
        .filter((entry) => entry.kind === "engage")
        .flatMap((entry) => entry.items as ProfileUpdate[])
        .find((update) => update.distinctId === "U-batch" && update.ops.$set?.plan === "pro"),
    );
    expect(profile.ops.$set).toMatchObject({ plan: "pro", $browser: "Chrome" });

    const trackReplies = [...(await replies(session, "track")), ...(await replies(session, "engage"))];
    expect(trackReplies.length).toBeGreaterThan(1);
    for (const reply of trackReplies) {
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('{"error":null,"status":1}');
      expect(reply.allowOrigin).toBe(pageOrigin);
      expect(reply.allowCredentials).toBe("true");
    }
    await session.context.close();
  });

  it("non-batch mode: each call is its own request, answered 1 to the SDK's callback", async () => {
    const session = await open({ batch_requests: false });
    const callbackValue = await session.page.evaluate(`new Promise((resolve) => mixpanel.track("Single Event", { mode: "single" }, resolve))`);
    expect(callbackValue).toBe(1);
    const [event] = await waitForEvent("Single Event");
    expect(event!.properties.mode).toBe("single");
    const request = session.requests.find((candidate) => candidate.url().includes("/track/"));
    expect(request?.method()).toBe("POST");
    expect(decodeURIComponent(request!.postData()!.replace(/^data=/, ""))).not.toMatch(/^\[/); // one object, base64
    expect(await replies(session, "track")).toEqual([{ status: 200, body: "1", allowOrigin: pageOrigin, allowCredentials: "true" }]);
    await session.context.close();
  });

  it("sendBeacon when the page is hidden: the queued events arrive via a beacon", async () => {
    // A long flush interval: only the page hide can send the event.
    const session = await open({ batch_flush_interval_ms: 600_000 });
    await session.page.evaluate(`mixpanel.track("Beacon Event", { via: "pagehide" })`);
    expect(await eventsNamed("Beacon Event")).toEqual([]);
    await session.page.goto(`${pageOrigin}/next?from=beacon`);
    const [event] = await waitForEvent("Beacon Event");
    expect(event!.properties.via).toBe("pagehide");
    // No XHR carried it (the flush interval never came); the SDK handed it to sendBeacon.
    expect(session.requests.filter((request) => request.url().includes("/track/"))).toEqual([]);
    const beacons = JSON.parse((await session.page.evaluate<string | null>(`sessionStorage.getItem("beacons")`)) ?? "[]") as string[];
    expect(beacons.some((url) => url.startsWith(`${ingestUrl}/track/`))).toBe(true);
    await session.context.close();
  });

  it("track_links: clicking a tracked link records the event before navigating", async () => {
    const session = await open({ batch_flush_interval_ms: 200 });
    await session.page.evaluate(`mixpanel.track_links("#link", "Clicked Link", { where: "nav" })`);
    await Promise.all([session.page.waitForURL(/\/next\?from=link/), session.page.click("#link")]);
    const [event] = await waitForEvent("Clicked Link");
    expect(event!.properties).toMatchObject({ where: "nav", url: `${pageOrigin}/next?from=link` });
    await session.context.close();
  });
});
