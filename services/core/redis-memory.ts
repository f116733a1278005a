/**
 * Redis' memory as `INFO memory` reports it, read by ingest (backpressure on bytes) and the worker
 * (its gauges and `pipeline` sample): `used_memory` and `maxmemory`, 0 when Redis has no limit.
 */
export interface RedisMemory {
  used: number;
  max: number;
}

export function parseRedisMemory(info: string): RedisMemory {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { used: field("used_memory"), max: field("maxmemory") };
}
