import { productEventPoints, toLine } from "../test/grafana/dataset";

/**
 * The dashboards' data set at benchmark size (test/grafana/dataset.ts, the same seed), written as
 * fast as raw line protocol goes: 10,000 lines per request, two requests in flight (InfluxDB parses
 * one while the next is built), never the whole set in memory.
 */
export async function writeProductEvents(users: number, write: (body: string) => Promise<void>): Promise<{ events: number; seconds: number }> {
  const started = performance.now();
  let events = 0;
  let lines: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const send = async (body: string) => {
    const request = write(body).finally(() => inFlight.delete(request));
    inFlight.add(request);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  for (const point of productEventPoints(users)) {
    lines.push(toLine(point));
    events += 1;
    if (lines.length === 10_000) {
      await send(lines.join("\n"));
      lines = [];
      if (events % 1_000_000 === 0) process.stderr.write(`  ${events / 1_000_000}M events written, ${(events / ((performance.now() - started) / 1000)).toFixed(0)}/s\n`);
    }
  }
  if (lines.length) await send(lines.join("\n"));
  await Promise.all(inFlight);
  return { events, seconds: (performance.now() - started) / 1000 };
}
