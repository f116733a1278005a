import { isIP } from "node:net";

/**
 * The address of the client that sent a request. Behind `trustedHops` proxies (a load balancer is
 * one hop) the client is that many entries from the right of `X-Forwarded-For` + the socket address;
 * entries further left were written by the client itself and cannot be trusted.
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string | undefined {
  if (trustedHops === 0 || forwardedFor === undefined) return normaliseAddress(remote);
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor;
  const chain = header.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (remote) chain.push(remote);
  const index = Math.max(0, chain.length - 1 - trustedHops);
  return normaliseAddress(chain[index]);
}

/** A bare IPv4/IPv6 address: ports and brackets removed, IPv4-mapped IPv6 unwrapped; else undefined. */
export function normaliseAddress(entry: string | undefined): string | undefined {
  if (!entry) return undefined;
  let address = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  if (address.toLowerCase().startsWith("::ffff:") && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) ? address : undefined;
}
