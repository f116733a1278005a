/**
 * InfluxDB shows durations the Go way (`720h0m0s`, `0s` for infinite); InfluxQL's CREATE RETENTION
 * POLICY takes one number and unit. Converts the first into the second, exactly (whole seconds or ns).
 */
export function toInfluxqlDuration(shown: string): string | Error {
  if (shown === "0s" || shown === "0" || shown.toUpperCase() === "INF") return "INF";
  const unitNs: Record<string, bigint> = { h: 3_600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, "µs": 1_000n, ns: 1n };
  const pattern = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0n;
  let consumed = 0;
  for (let match = pattern.exec(shown); match; match = pattern.exec(shown)) {
    const [whole, fraction = ""] = match[1]!.split(".");
    const scale = 10n ** BigInt(fraction.length);
    total += (BigInt(whole! + fraction) * unitNs[match[2]!]!) / scale;
    consumed = pattern.lastIndex;
  }
  if (consumed !== shown.length || consumed === 0) return new Error(`not a duration: ${JSON.stringify(shown)}`);
  if (total === 0n) return "INF";
  return total % 1_000_000_000n === 0n ? `${total / 1_000_000_000n}s` : `${total}ns`;
}
