import { describe, expect, it } from "vitest";
import { clientAddress, normaliseAddress } from "../../services/ingest/client-ip";

describe("clientAddress", () => {
  it.each([
    ["no proxy: the socket address", "203.0.113.9", undefined, 0, "203.0.113.9"],
    ["no proxy trusted: X-Forwarded-For is ignored (clients can forge it)", "203.0.113.9", "1.2.3.4", 0, "203.0.113.9"],
    ["one trusted hop (a load balancer)", "10.0.0.5", "81.2.69.142", 1, "81.2.69.142"],
    ["one trusted hop ignores what the client prepended", "10.0.0.5", "6.6.6.6, 81.2.69.142", 1, "81.2.69.142"],
    ["two trusted hops", "10.0.0.5", "6.6.6.6, 81.2.69.142, 10.0.0.9", 2, "81.2.69.142"],
    ["more hops trusted than present: the left-most", "10.0.0.5", "81.2.69.142", 3, "81.2.69.142"],
    ["a trusted hop without the header: the socket", "10.0.0.5", undefined, 1, "10.0.0.5"],
    ["IPv4-mapped IPv6 socket address", "::ffff:127.0.0.1", undefined, 0, "127.0.0.1"],
    ["a header entry with a port", "10.0.0.5", "81.2.69.142:5123", 1, "81.2.69.142"],
    ["a bracketed IPv6 entry with a port", "10.0.0.5", "[2001:db8::1]:443", 1, "2001:db8::1"],
    ["garbage in the header", "10.0.0.5", "unknown", 1, undefined],
  ])("%s", (_name, remote, header, hops, expected) => {
    expect(clientAddress(remote, header, hops)).toBe(expected);
  });

  it("joins repeated X-Forwarded-For headers", () => {
    expect(clientAddress("10.0.0.5", ["6.6.6.6", "81.2.69.142"], 1)).toBe("81.2.69.142");
  });
});

describe("normaliseAddress", () => {
  it.each([
    ["2001:db8::1", "2001:db8::1"],
    [" 81.2.69.142 ", "81.2.69.142"],
    ["81.2.69.142:80", "81.2.69.142"],
    ["not an ip", undefined],
    ["", undefined],
  ])("%j → %j", (input, expected) => {
    expect(normaliseAddress(input)).toBe(expected);
  });
});
