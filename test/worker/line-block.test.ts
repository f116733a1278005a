import pino from "pino";
import { describe, expect, it } from "vitest";
import { InfluxError, type InfluxClient, type WriteOptions } from "../../services/core/influx";
import { FieldTypes } from "../../services/worker/field-types";
import { lineBlock, lineCount, requestBody, requestsOf, sliceBlock, type LineBlock } from "../../services/worker/line-block";
import { PointWriter } from "../../services/worker/writer";

/** Lines whose string values hold newlines: a block must never be cut at those. */
const lines = ['m v="a\nb" 1', "m v=2 2", 'm v="c\n\nd" 3', "m v=4 4", "m v=5 5"];

function linesOf(block: LineBlock): string[] {
  return block.ends.map((end, index) => block.text.slice(index === 0 ? 0 : block.ends[index - 1]! + 1, end));
}

describe("lineBlock", () => {
  it("joins lines with newlines and remembers where each ends", () => {
    const block = lineBlock(lines);
    expect(block.text).toBe(lines.join("\n"));
    expect(linesOf(block)).toEqual(lines);
  });

  it("is empty for no lines", () => {
    expect(lineBlock([])).toEqual({ text: "", ends: [] });
  });
});

describe("sliceBlock", () => {
  it.each([
    [0, 5],
    [0, 1],
    [1, 3],
    [2, 5],
    [4, 5],
    [3, 3],
  ])("lines %i to %i come back whole, newlines inside values included", (from, to) => {
    const slice = sliceBlock(lineBlock(lines), from, to);
    expect(linesOf(slice)).toEqual(lines.slice(from, to));
    expect(slice.text).toBe(lines.slice(from, to).join("\n"));
  });
});

describe("requestsOf", () => {
  const blocks = [lineBlock(lines.slice(0, 3)), lineBlock([]), lineBlock(lines.slice(3)), lineBlock(["x v=6 6"])];

  it.each([1, 2, 3, 4, 6, 100])("makes requests of at most %i lines, in order, losing none", (max) => {
    const requests = requestsOf(blocks, max);
    for (const request of requests) {
      expect(lineCount(request)).toBeGreaterThan(0);
      expect(lineCount(request)).toBeLessThanOrEqual(max);
    }
    expect(requests.flatMap((request) => request.flatMap(linesOf))).toEqual([...lines, "x v=6 6"]);
    expect(requests).toHaveLength(Math.ceil(6 / max));
  });

  it("joins the blocks of a request into one body, one line each", () => {
    expect(requestBody(requestsOf(blocks, 100)[0]!)).toBe([...lines, "x v=6 6"].join("\n"));
  });
});

describe("PointWriter and a request too large for InfluxDB", () => {
  it("halves a request refused with 413 until the parts fit, and writes every line once", async () => {
    const bodies: string[] = [];
    const tooLargeAbove = 30;
    const client = {
      async write(body: string, _options: WriteOptions) {
        if (body.length > tooLargeAbove) throw new InfluxError("InfluxDB write failed (413): Request Entity Too Large", 413);
        bodies.push(body);
      },
    } as unknown as InfluxClient;
    const writer = new PointWriter(client, {
      db: "d",
      maxPoints: 5000,
      backoffMinMs: 10,
      backoffMaxMs: 10,
      types: new FieldTypes(),
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
    });
    const outcome = await writer.write([
      { id: "a", lines: () => lineBlock(lines.slice(0, 3)) },
      { id: "b", lines: () => lineBlock(lines.slice(3)) },
    ]);
    expect(outcome.rejected.size).toBe(0);
    expect(outcome.lines).toBe(5);
    expect(bodies.length).toBeGreaterThan(1);
    expect(bodies.join("\n")).toBe(lines.join("\n"));
  });
});
