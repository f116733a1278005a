import { z } from "zod";
import { ParseError } from "./expression/parse-error";
import { parseExpression } from "./expression/parser";
import { defaultQueryLimits } from "./limits";

/**
 * A saved funnel: what the stack config's `mixstack:funnels` holds (config/ imports this schema) and
 * what the query service reads from `MIXSTACK_FUNNELS` (the same list as JSON). Pure: zod and the
 * expression parser only, so the stack config refuses an unparsable step `where` with the parser's
 * own message before anything is deployed.
 *
 * ```yaml
 * mixstack:funnels:
 *   - name: Signup funnel
 *     steps:
 *       - event: Viewed pricing
 *       - event: Signed up
 *       - event: Paid
 *         where: properties["amount"] > 0
 *     window: { length: 7, unit: day }
 * ```
 */

export const windowUnits = ["day", "hour", "minute", "second"] as const;
export type WindowUnit = (typeof windowUnits)[number];
export const windowUnitMs: Record<WindowUnit, number> = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000 };

/** Text that must parse as an expression; the issue carries the parser's message (column, expected). */
export const expressionText = z.string().superRefine((text, context) => {
  try {
    parseExpression(text);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    context.addIssue({ code: "custom", message: `not a valid expression: ${error.message}` });
  }
});

export const funnelStepSchema = z
  .object({
    /** Event name, exactly as tracked. */
    event: z.string().min(1, { message: "an event name is required" }),
    /** Only events for which this expression is true count as the step. */
    where: expressionText.optional(),
    /** Shown instead of the event name (Mixpanel's `step_label`). */
    label: z.string().min(1).optional(),
  })
  .strict();

export const funnelWindowSchema = z
  .object({
    length: z.number().int().positive(),
    unit: z.enum(windowUnits),
  })
  .strict()
  .refine((window) => window.length * windowUnitMs[window.unit] <= defaultQueryLimits.maxFunnelWindowDays * 86_400_000, {
    message: `the window may not be longer than ${defaultQueryLimits.maxFunnelWindowDays} days`,
  });

export const funnelOrders = ["sequential", "any"] as const;

export const funnelDefinitionSchema = z
  .object({
    /** Mixpanel's `funnel_id`; default: the position in the list, from 1. Set it to keep dashboards' links stable. */
    id: z.number().int().positive().optional(),
    name: z.string().min(1, { message: "a name is required" }),
    steps: z
      .array(funnelStepSchema)
      .min(2, { message: "a funnel has at least 2 steps" })
      .max(defaultQueryLimits.maxFunnelSteps, { message: `a funnel has at most ${defaultQueryLimits.maxFunnelSteps} steps` }),
    /** Conversion window from the first step (default 7 days, as Mixpanel). */
    window: funnelWindowSchema.default({ length: 7, unit: "day" }),
    /** `sequential` (Mixpanel's default "specific order": other events may come between) or `any` (after the first step). */
    order: z.enum(funnelOrders).default("sequential"),
  })
  .strict();

export const funnelListSchema = z
  .array(funnelDefinitionSchema)
  .transform((funnels) => funnels.map((funnel, index) => ({ ...funnel, id: funnel.id ?? index + 1 })))
  .superRefine((funnels, context) => {
    const ids = new Set<number>();
    const names = new Set<string>();
    funnels.forEach((funnel, index) => {
      if (ids.has(funnel.id)) context.addIssue({ code: "custom", path: [index, "id"], message: `funnel id ${funnel.id} is used twice` });
      if (names.has(funnel.name)) context.addIssue({ code: "custom", path: [index, "name"], message: `funnel name "${funnel.name}" is used twice` });
      ids.add(funnel.id);
      names.add(funnel.name);
    });
  });

export type FunnelStep = z.infer<typeof funnelStepSchema>;
export type FunnelOrder = (typeof funnelOrders)[number];
export type FunnelDefinition = z.output<typeof funnelListSchema>[number];

/** One line per problem, each with its path (`[1].steps[2].where: not a valid expression: column 4: ...`). */
export function describeFunnelIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").replace(/^\./, "");
      return `${path || "funnels"}: ${issue.message}`;
    })
    .join("; ");
}

/** `MIXSTACK_FUNNELS`: a JSON list of funnel definitions ("" or unset: none). */
export function parseFunnelsJson(text: string | undefined): { funnels: FunnelDefinition[] } | { error: string } {
  if (text === undefined || text.trim() === "") return { funnels: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  const parsed = funnelListSchema.safeParse(raw);
  return parsed.success ? { funnels: parsed.data } : { error: describeFunnelIssues(parsed.error) };
}
