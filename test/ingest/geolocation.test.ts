import { beforeAll, describe, expect, it } from "vitest";
import type { EventItem, ProfileUpdate } from "../../services/core/queue";
import { b64, lastId, readStreamAfter, send, startIngestStack, TOKEN, type Redis } from "./support";

/**
 * Geolocation with the GeoLite data of `geoip-lite`: from the request address (one trusted proxy
 * hop here, as behind a load balancer) into `$city`/`$region`/`mp_country_code`; the raw address
 * never reaches the stream. 81.2.69.142 is in MaxMind's test range (St Albans, England).
 */

const ADDRESS = "81.2.69.142";
let url: string;
let client: Redis;

beforeAll(async () => {
  const stack = await startIngestStack({ MIXSTACK_GEOIP: "true", MIXSTACK_TRUSTED_PROXY_HOPS: "1" });
  url = stack.url;
  client = stack.client;
});

async function exchange(path: string, headers: Record<string, string> = {}) {
  const before = await lastId(client);
  const response = await send(`${url}${path}`, { headers });
  return { response, entries: await readStreamAfter(client, before) };
}

describe("geolocation", () => {
  it("ip=1 locates the client behind one trusted proxy and never stores its address", async () => {
    const data = encodeURIComponent(b64({ event: "geo", properties: { token: TOKEN } }));
    const { response, entries } = await exchange(`/track?ip=1&data=${data}`, { "X-Forwarded-For": `10.1.1.1, ${ADDRESS}` });
    expect(response.text).toBe("1");
    const [item] = entries[0]!.entry.items as EventItem[];
    expect(item!.properties).toMatchObject({ $city: "St Albans", $region: "ENG", mp_country_code: "GB" });
    expect(JSON.stringify(entries)).not.toContain(ADDRESS);
  });

  it("ip=0 does not locate", async () => {
    const data = encodeURIComponent(b64({ event: "geo", properties: { token: TOKEN } }));
    const { entries } = await exchange(`/track?ip=0&data=${data}`, { "X-Forwarded-For": ADDRESS });
    expect((entries[0]!.entry.items as EventItem[])[0]!.properties).toEqual({});
  });

  it("an event's own ip property wins and is not stored", async () => {
    const data = encodeURIComponent(b64({ event: "geo", properties: { token: TOKEN, ip: ADDRESS } }));
    const { entries } = await exchange(`/track?ip=0&data=${data}`);
    const [item] = entries[0]!.entry.items as EventItem[];
    expect(item!.properties).toEqual({ $city: "St Albans", $region: "ENG", mp_country_code: "GB" });
  });

  it("profile updates are located by default (Mixpanel's ip default for /engage)", async () => {
    const data = encodeURIComponent(b64({ $token: TOKEN, $distinct_id: "u1", $set: { plan: "pro" } }));
    const { entries } = await exchange(`/engage?data=${data}`, { "X-Forwarded-For": ADDRESS });
    const [update] = entries[0]!.entry.items as ProfileUpdate[];
    expect(update!.ops.$set).toEqual({ plan: "pro", $city: "St Albans", $region: "ENG", $country_code: "GB", $timezone: "Europe/London" });
    expect(JSON.stringify(entries)).not.toContain(ADDRESS);
  });
});

describe("geolocation without a trusted proxy", () => {
  it("ignores X-Forwarded-For (a client could forge it) and uses the socket address", async () => {
    const stack = await startIngestStack({ MIXSTACK_GEOIP: "true" });
    const before = await lastId(stack.client);
    const data = encodeURIComponent(b64({ event: "geo", properties: { token: TOKEN } }));
    expect((await send(`${stack.url}/track?ip=1&data=${data}`, { headers: { "X-Forwarded-For": ADDRESS } })).text).toBe("1");
    const [{ entry }] = await readStreamAfter(stack.client, before);
    // 127.0.0.1 has no location.
    expect((entry!.items as EventItem[])[0]!.properties).toEqual({});
  });
});
