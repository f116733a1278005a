import { z } from "zod";
import { segmentKey } from "../expression/values";
import { describeFunnelIssues, funnelOrders, funnelStepSchema, windowUnitMs, windowUnits, type FunnelDefinition, type FunnelOrder, type FunnelStep } from "../funnel-definition";
import { LimitExceeded } from "../limits";
import { ParamError, type Params } from "../params";
import { FunnelEngine, GRACE_MS } from "../reports/funnel";
import { newScan, type Endpoint } from "./context";

/**
 * `/funnels`: a saved funnel (`funnel_id`, from `MIXSTACK_FUNNELS`) or, for Grafana and the CLI, an
 * ad-hoc one (`steps` as JSON, `order`), per entry bucket (`interval` days or `unit`), with `length`
 * `length_unit` overriding the window, `on` (by the entry event) and a global `where`. Events are read
 * up to `to_date` + window + the 2-second grace, since steps may be completed after the range.
 */

const adHocSteps = z.array(funnelStepSchema).min(2, { message: "a funnel has at least 2 steps" });

function chosenFunnel(params: Params, funnels: readonly FunnelDefinition[]): { name: string; steps: FunnelStep[]; windowMs: number; order: FunnelOrder } {
  const hasId = params.has("funnel_id");
  const hasSteps = params.has("steps");
  if (hasId && hasSteps) throw new ParamError("give either funnel_id or steps, not both");
  if (hasId) {
    const id = params.integer("funnel_id", 0, 1, Number.MAX_SAFE_INTEGER);
    const funnel = funnels.find((candidate) => candidate.id === id);
    if (!funnel) throw new ParamError(`funnel_id ${id} is not a saved funnel (see /funnels/list)`);
    return { name: funnel.name, steps: funnel.steps, windowMs: funnel.window.length * windowUnitMs[funnel.window.unit], order: funnel.order };
  }
  if (!hasSteps) throw new ParamError("funnel_id is required (or steps, a JSON list of {\"event\", \"where\"} for an ad-hoc funnel)");
  let raw: unknown;
  try {
    raw = JSON.parse(params.required("steps"));
  } catch {
    throw new ParamError('steps must be a JSON list such as [{"event":"Viewed"},{"event":"Paid","where":"properties[\\"amount\\"] > 0"}]');
  }
  const parsed = adHocSteps.safeParse(raw);
  if (!parsed.success) throw new ParamError(`steps: ${describeFunnelIssues(parsed.error)}`);
  return { name: "ad hoc", steps: parsed.data, windowMs: 7 * windowUnitMs.day, order: params.choice("order", funnelOrders, "sequential") };
}

export const funnels: Endpoint = async (params, context) => {
  params.checkProject();
  const funnel = chosenFunnel(params, context.funnels);
  if (funnel.steps.length > context.limits.maxFunnelSteps) {
    throw new LimitExceeded("maxFunnelSteps", `the funnel has ${funnel.steps.length} steps, more than ${context.limits.maxFunnelSteps}`);
  }
  if (params.has("length") || params.has("length_unit")) {
    const unit = params.choice("length_unit", windowUnits, "day");
    funnel.windowMs = params.integer("length", 1, 1, 1_000_000_000) * windowUnitMs[unit];
  }
  if (funnel.windowMs > context.limits.maxFunnelWindowDays * 86_400_000) {
    throw new LimitExceeded("maxFunnelWindowDays", `the conversion window is longer than ${context.limits.maxFunnelWindowDays} days`);
  }
  const range = params.range(context.zone);
  const buckets = params.buckets(range, params.bucketing(["day", "week", "month"], "day", { interval: true }), context.zone);
  const on = params.expression("on");
  const where = params.expression("where");
  const limit = params.integer("limit", 255, 1, 10_000);
  const format = params.format();
  const stepWheres = funnel.steps.map((step, index) => (step.where ? params.parseStored(step.where, `steps[${index}].where`) : undefined));

  const end = Math.min(range.end + funnel.windowMs + GRACE_MS, Math.max(range.end, context.now() + 1));
  const events = [...new Set(funnel.steps.map((step) => step.event))];
  const { scan, run } = await newScan(context, { events, where, expressions: [on, ...stepWheres], start: range.start, end });
  const matchers = funnel.steps.map((step, index) => ({ event: step.event, where: scan.predicate(stepWheres[index]), bit: 1 << index }));
  const segmentOf = on ? scan.compile(on) : undefined;
  const engine = new FunnelEngine({ steps: funnel.steps, windowMs: funnel.windowMs, order: funnel.order, buckets, maxStates: context.limits.maxStates });
  await run((row) => {
    let matched = 0;
    for (const matcher of matchers) if (row.event === matcher.event && matcher.where(row)) matched |= matcher.bit;
    if (!matched) return;
    engine.event(row.person, row.time, matched, segmentOf && matched & 1 ? segmentKey(segmentOf(row)) : undefined);
  });
  const options = { breakdown: on !== undefined, limit };
  return { status: 200, json: format === "rows" ? engine.rows(options) : engine.answer(options) };
};

/** `/funnels/list`: the saved funnels. */
export const funnelList: Endpoint = async (params, context) => {
  params.checkProject();
  return { status: 200, json: context.funnels.map((funnel) => ({ funnel_id: funnel.id, name: funnel.name })) };
};
