import type { Expression, Scope } from "./parser";
import * as values from "./values";
import type { Value } from "./values";

/**
 * Turns a parsed expression into one closure per node, once per query, so that evaluating a row is a
 * few function calls with no parsing, lookups by name or allocation. `Row` is whatever the caller
 * reads properties from (an InfluxDB row, a profile); the caller's `Bindings` say how.
 */

export type Evaluate<Row> = (row: Row) => Value;

export interface Bindings<Row> {
  /** A getter for `properties["name"]` (`event[...]`, `user[...]` likewise). */
  lookup(scope: Scope, name: string): Evaluate<Row>;
  /** The project time zone's UTC offset (ms) at a wall time written as if it were UTC (for `datetime()`). */
  zoneOffsetMs(wallTimeAsUtc: number): number;
}

export function compileExpression<Row>(expression: Expression, bindings: Bindings<Row>): Evaluate<Row> {
  const evaluate = compileNode(expression, bindings);
  // The type rules make every operation total; this guard keeps "the evaluator never throws" true
  // even for the unforeseen (a pathological value from storage), at no measurable cost in V8.
  return (row) => {
    try {
      return evaluate(row);
    } catch {
      return undefined;
    }
  };
}

/** A `where`: a row is kept when the expression is exactly `true`. */
export function compilePredicate<Row>(expression: Expression | undefined, bindings: Bindings<Row>): (row: Row) => boolean {
  if (!expression) return () => true;
  const evaluate = compileExpression(expression, bindings);
  return (row) => evaluate(row) === true;
}

/** Without the guard: what the property test runs, to prove the type rules alone never throw. */
export function compileUnguarded<Row>(expression: Expression, bindings: Bindings<Row>): Evaluate<Row> {
  return compileNode(expression, bindings);
}

function compileNode<Row>(node: Expression, bindings: Bindings<Row>): Evaluate<Row> {
  switch (node.type) {
    case "literal": {
      const value = node.value;
      return () => value;
    }
    case "list": {
      const items = node.items.map((item) => compileNode(item, bindings));
      return (row) => items.map((item) => item(row));
    }
    case "property":
      return bindings.lookup(node.scope, node.name);
    case "index": {
      const target = compileNode(node.target, bindings);
      const key = compileNode(node.key, bindings);
      return (row) => element(target(row), key(row));
    }
    case "unary": {
      const operand = compileNode(node.operand, bindings);
      return node.operator === "not" ? (row) => values.not(operand(row)) : (row) => values.negate(operand(row));
    }
    case "binary":
      return compileBinary(node.operator, compileNode(node.left, bindings), compileNode(node.right, bindings));
    case "call":
      return compileCall(node, bindings);
  }
}

function compileBinary<Row>(operator: Extract<Expression, { type: "binary" }>["operator"], left: Evaluate<Row>, right: Evaluate<Row>): Evaluate<Row> {
  switch (operator) {
    case "or":
      return (row) => values.or(left(row), right(row));
    case "and":
      return (row) => values.and(left(row), right(row));
    case "==":
      return (row) => values.equals(left(row), right(row));
    case "!=":
      return (row) => !values.equals(left(row), right(row));
    case ">":
      return (row) => {
        const difference = values.compare(left(row), right(row));
        return difference === undefined ? undefined : difference > 0;
      };
    case ">=":
      return (row) => {
        const difference = values.compare(left(row), right(row));
        return difference === undefined ? undefined : difference >= 0;
      };
    case "<":
      return (row) => {
        const difference = values.compare(left(row), right(row));
        return difference === undefined ? undefined : difference < 0;
      };
    case "<=":
      return (row) => {
        const difference = values.compare(left(row), right(row));
        return difference === undefined ? undefined : difference <= 0;
      };
    case "in":
      return (row) => values.contains(left(row), right(row));
    case "+":
      return (row) => values.add(left(row), right(row));
    case "-":
    case "*":
    case "/":
    case "%":
      return (row) => values.arithmetic(operator, left(row), right(row));
  }
}

function compileCall<Row>(node: Extract<Expression, { type: "call" }>, bindings: Bindings<Row>): Evaluate<Row> {
  const [first, second] = node.args.map((arg) => compileNode(arg, bindings)) as [Evaluate<Row>, Evaluate<Row> | undefined];
  switch (node.name) {
    case "defined":
      return (row) => first(row) !== undefined;
    case "boolean":
      return (row) => values.toBoolean(first(row));
    case "number":
      return (row) => values.toNumber(first(row));
    case "string":
      if (second) {
        // string(x, fallback): the fallback when x has no value (Mixpanel's hot-shard example).
        return (row) => {
          const text = values.toText(first(row));
          return text === undefined || text === null ? values.toText(second(row)) : text;
        };
      }
      return (row) => values.toText(first(row));
    case "datetime":
      return (row) => values.toDateTime(first(row), bindings.zoneOffsetMs);
    case "floor":
    case "round":
    case "ceil": {
      const kind = node.name;
      return (row) => values.rounding(kind, first(row));
    }
    case "has_prefix":
      return (row) => {
        const text = first(row);
        const prefix = second!(row);
        return typeof text === "string" && typeof prefix === "string" ? text.startsWith(prefix) : undefined;
      };
  }
}

/** `list[n]` (integer n from 0) and `object["key"]`; anything else is undefined. */
function element(target: Value, key: Value): Value {
  if (Array.isArray(target)) return typeof key === "number" && Number.isInteger(key) && key >= 0 && key < target.length ? target[key] : undefined;
  if (target !== null && typeof target === "object" && !(target instanceof values.DateTime) && typeof key === "string") {
    return Object.hasOwn(target, key) ? target[key] : undefined;
  }
  return undefined;
}
