import { segmentKey } from "../expression/values";
import { LimitExceeded } from "../limits";
import { ParamError } from "../params";
import { RetentionEngine } from "../reports/retention";
import { newScan, type Endpoint } from "./context";

/** Length of one `unit` of retention intervals (rolling from each person's birth). */
const unitMs = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;

/**
 * `/retention`: cohorts by `unit` (birth: first `born_event` in the range; compounded: each bucket's
 * `event` doers), `interval_count` + 1 intervals of `interval` units from each person's birth.
 * Events are read up to the end of the last interval of the last cohort (or now).
 */
export const retention: Endpoint = async (params, context) => {
  params.checkProject();
  const range = params.range(context.zone);
  const kind = params.choice("retention_type", ["birth", "compounded"], "birth");
  const bornEvent = kind === "birth" ? params.required("born_event") : undefined;
  const event = params.optional("event");
  if (kind === "compounded" && params.has("born_event")) throw new ParamError("born_event is for retention_type=birth; compounded retention uses event");
  const unit = params.choice("unit", ["day", "week", "month"], "day");
  const interval = params.integer("interval", 1, 1, 10_000);
  const intervalCount = params.integer("interval_count", 1, 0, Number.MAX_SAFE_INTEGER);
  if (intervalCount > context.limits.maxRetentionIntervals) {
    throw new LimitExceeded("maxRetentionIntervals", `interval_count is ${intervalCount}, more than ${context.limits.maxRetentionIntervals}`);
  }
  const intervalMs = interval * unitMs[unit];
  if (interval > 1 && unit === "day" && interval > 90) throw new ParamError("interval may not be more than 90 days");
  const unbounded = params.boolean("unbounded_retention", false);
  const bornWhere = params.expression("born_where");
  const where = params.expression("where");
  const on = params.expression("on");
  const limit = params.integer("limit", 60, 1, 10_000);
  const format = params.format();
  const buckets = params.buckets(range, { unit }, context.zone);

  const end = Math.min(range.end + (intervalCount + 1) * intervalMs, Math.max(range.end, context.now() + 1));
  const events = event === undefined ? undefined : [...new Set([event, ...(bornEvent ? [bornEvent] : [])])];
  const { scan, run } = await newScan(context, { events, expressions: [bornWhere, where, on], start: range.start, end });
  const isBorn = scan.predicate(bornWhere);
  const isReturn = scan.predicate(where);
  const segmentOf = on ? scan.compile(on) : undefined;
  const engine = new RetentionEngine({ kind, buckets, intervalMs, intervalCount, unbounded, maxStates: context.limits.maxStates, now: context.now() });
  await run((row) => {
    const returned = (event === undefined || row.event === event) && isReturn(row);
    const born = kind === "birth" ? row.event === bornEvent && isBorn(row) : returned;
    if (!born && !returned) return;
    engine.event(row.person, row.time, born, returned, segmentOf && returned ? segmentKey(segmentOf(row)) : undefined);
  });
  const options = { breakdown: on !== undefined, limit };
  return { status: 200, json: format === "rows" ? engine.rows(options) : engine.answer(options) };
};
