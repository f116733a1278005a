import { quoteIdentifier, quoteString } from "../../core/influx";
import type { EventCatalog } from "../event-columns";
import type { Expression } from "./parser";

/**
 * Pushes what InfluxDB can decide exactly into the query's WHERE: of an expression's top-level
 * conjunction, each comparison of a property with a literal that InfluxQL evaluates the same way as
 * the language does. The rest (`residual`) is evaluated per row. A row is kept by a conjunction iff
 * every conjunct is `true`, so splitting it changes nothing.
 *
 * Translated (and why only these):
 * - a tag property `== "text"`: tags hold strings; a missing tag never equals a non-empty string;
 * - a field property `==, >, >=, <, <=` a number (the property's float column), `== "text"` (its
 *   string column) or `== true/false` (its boolean column), when it has exactly one column of that
 *   type and no tag: a value of another type makes the comparison false or undefined in the
 *   language, and InfluxDB does not match it either.
 * Not translated: `!=` (the language keeps missing and mixed-type values, InfluxQL drops rows without
 * the field), strings compared by order, texts that look like JSON lists (read back as lists),
 * properties we name ourselves (`distinct_id`), and everything under `or`/`not`/functions.
 */

export interface WhereTranslation {
  /** InfluxQL conditions, to be joined with AND. */
  conditions: string[];
  /** What is left to evaluate per row; undefined when InfluxDB decides everything. */
  residual?: Expression;
}

const flipped = { "==": "==", ">": "<", ">=": "<=", "<": ">", "<=": ">=" } as const;
type Comparison = keyof typeof flipped;
const influxOperator: Record<Comparison, string> = { "==": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<=" };

/** Names the reports give a meaning of their own (see `row-bindings.ts`): never pushed down. */
const OWN_PROPERTY_NAMES = new Set(["distinct_id"]);

export function conjuncts(expression: Expression): Expression[] {
  if (expression.type === "binary" && expression.operator === "and") return [...conjuncts(expression.left), ...conjuncts(expression.right)];
  return [expression];
}

export function translateWhere(expression: Expression | undefined, catalog: EventCatalog): WhereTranslation {
  if (!expression) return { conditions: [] };
  const conditions: string[] = [];
  const rest: Expression[] = [];
  for (const part of conjuncts(expression)) {
    const condition = translateComparison(part, catalog);
    if (condition) conditions.push(condition);
    else rest.push(part);
  }
  const residual = rest.reduce<Expression | undefined>(
    (left, right) => (left ? { type: "binary", operator: "and", left, right, column: right.column } : right),
    undefined,
  );
  return { conditions, residual };
}

function translateComparison(node: Expression, catalog: EventCatalog): string | undefined {
  if (node.type !== "binary" || !(node.operator in flipped)) return undefined;
  let operator = node.operator as Comparison;
  let property = node.left;
  let literal = node.right;
  if (property.type === "literal") {
    [property, literal] = [literal, property];
    operator = flipped[operator];
  }
  if (property.type !== "property" || property.scope !== "properties" || literal.type !== "literal") return undefined;
  if (OWN_PROPERTY_NAMES.has(property.name)) return undefined;
  const columns = catalog.property(property.name);
  if (!columns) return undefined;
  const value = literal.value;
  if (typeof value === "string" && (value === "" || value.startsWith("[") || value.startsWith("{"))) return undefined;
  if (columns.tag !== undefined) {
    if (columns.fields.length > 0 || operator !== "==" || typeof value !== "string") return undefined;
    const text = influxString(value);
    return text === undefined ? undefined : `${quoteIdentifier(columns.tag)} = ${text}`;
  }
  const wanted = typeof value === "number" ? "float" : typeof value === "string" ? "string" : typeof value === "boolean" ? "boolean" : undefined;
  if (!wanted || (wanted !== "float" && operator !== "==")) return undefined;
  const matching = columns.fields.filter((field) => field.type === wanted);
  if (matching.length !== 1) return undefined;
  // An integer column (never written by the worker) would also hold numbers: leave those rows to the evaluator.
  if (wanted === "float" && columns.fields.some((field) => field.type === "integer")) return undefined;
  const text = literalText(value);
  if (text === undefined) return undefined;
  return `${quoteIdentifier(matching[0]!.column)} ${influxOperator[operator]} ${text}`;
}

/**
 * A string literal for InfluxQL, or undefined for text it cannot carry (control characters: its
 * scanner calls them a bad string). Ingest never stores such event names or tags, so a filter on
 * one matches nothing; a field comparison with one is left to the evaluator.
 */
export function influxString(value: string): string | undefined {
  return /[\u0000-\u001f\u007f]/.test(value) ? undefined : quoteString(value);
}

function literalText(value: unknown): string | undefined {
  if (typeof value === "string") return influxString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    const text = String(value);
    return /e/i.test(text) ? undefined : text;
  }
  return undefined;
}
