import { segmentKey } from "../expression/values";
import { NumericAccumulator, SegmentationCounter, type SegmentationType } from "../reports/segmentation";
import { ParamError } from "../params";
import { computedAt, newScan, type Endpoint } from "./context";

/**
 * `/segmentation`: one event's count per bucket (general), people (unique, after identity merges) or
 * events per person (average), optionally split by an `on` expression and filtered by `where`.
 */
export const segmentation: Endpoint = async (params, context) => {
  params.checkProject();
  const event = params.required("event");
  const range = params.range(context.zone);
  const type = params.choice<SegmentationType>("type", ["general", "unique", "average"], "general");
  // Mixpanel: `interval` (days per bucket) in lieu of `unit` when type is not general.
  const bucketing = params.bucketing(["minute", "hour", "day", "week", "month"], "day", { interval: type !== "general" });
  const buckets = params.buckets(range, bucketing, context.zone);
  const on = params.expression("on");
  const where = params.expression("where");
  const limit = params.integer("limit", 60, 1, 10_000);
  const format = params.format();

  const { scan, run } = await newScan(context, { events: [event], where, expressions: [on], start: range.start, end: range.end });
  const counter = new SegmentationCounter(buckets, type, context.limits);
  const segmentOf = on ? scan.compile(on) : undefined;
  await run((row) => {
    const bucket = buckets.index(row.time);
    if (bucket < 0) return;
    const key = segmentOf ? segmentKey(segmentOf(row)) : event;
    if (key === undefined) return;
    counter.add(bucket, key, type === "general" ? -1 : row.person);
  });
  const keys = on ? [] : [event];
  return { status: 200, json: format === "rows" ? counter.rows(limit, keys) : counter.answer(limit, keys) };
};

/** `/segmentation/sum` and `/segmentation/average`: a numeric `on` expression per bucket. */
export function numericSegmentation(kind: "sum" | "average"): Endpoint {
  return async (params, context) => {
    params.checkProject();
    const event = params.required("event");
    const range = params.range(context.zone);
    const buckets = params.buckets(range, { unit: params.choice("unit", ["hour", "day"], "day") }, context.zone);
    const on = params.expression("on");
    if (!on) throw new ParamError("on is required: the numeric expression to " + (kind === "sum" ? "sum" : "average"));
    const where = params.expression("where");
    const format = params.format();
    const { scan, run } = await newScan(context, { events: [event], where, expressions: [on], start: range.start, end: range.end });
    const valueOf = scan.compile(on);
    const accumulator = new NumericAccumulator(buckets);
    await run((row) => {
      const bucket = buckets.index(row.time);
      if (bucket >= 0) accumulator.add(bucket, valueOf(row));
    });
    if (format === "rows") return { status: 200, json: accumulator.rows(kind) };
    return { status: 200, json: { status: "ok", computed_at: computedAt(context.now()), results: accumulator.results(kind) } };
  };
}
