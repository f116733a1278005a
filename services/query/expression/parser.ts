import { tokenize, type Token } from "./lexer";
import { ParseError } from "./parse-error";
import type { Value } from "./values";

/**
 * Mixpanel's segmentation expressions (reference §2), parsed by a small Pratt parser driven by one
 * precedence table (`infix` below): the language is a dozen operators and a handful of functions,
 * so a table read top to bottom is its grammar, every error can say its column and what was expected,
 * and depth and length are bounded before anything can overflow the stack. docs/reports.md gives the
 * language with examples.
 */

export type Scope = "properties" | "user" | "event";
export type BinaryOperator = "or" | "and" | "==" | "!=" | ">" | ">=" | "<" | "<=" | "in" | "+" | "-" | "*" | "/" | "%";
export type FunctionName = keyof typeof functions;

export type Expression =
  | { type: "literal"; value: Value; column: number }
  | { type: "list"; items: Expression[]; column: number }
  | { type: "property"; scope: Scope; name: string; column: number }
  | { type: "index"; target: Expression; key: Expression; column: number }
  | { type: "binary"; operator: BinaryOperator; left: Expression; right: Expression; column: number }
  | { type: "unary"; operator: "-" | "not"; operand: Expression; column: number }
  | { type: "call"; name: FunctionName; args: Expression[]; column: number };

/** Infix operators, loosest first: the precedence table of the language. `=` is read as `==`. */
const infix: Record<string, { power: number; operator: BinaryOperator }> = {
  or: { power: 10, operator: "or" },
  and: { power: 20, operator: "and" },
  "==": { power: 40, operator: "==" },
  "=": { power: 40, operator: "==" },
  "!=": { power: 40, operator: "!=" },
  ">": { power: 40, operator: ">" },
  ">=": { power: 40, operator: ">=" },
  "<": { power: 40, operator: "<" },
  "<=": { power: 40, operator: "<=" },
  in: { power: 40, operator: "in" },
  "+": { power: 50, operator: "+" },
  "-": { power: 50, operator: "-" },
  "*": { power: 60, operator: "*" },
  "/": { power: 60, operator: "/" },
  "%": { power: 60, operator: "%" },
};
/** `not` binds looser than comparisons (`not a == b` is `not (a == b)`), unary minus tighter than `*`. */
const NOT_POWER = 30;
const NEGATE_POWER = 70;
/** `x[...]` (an element of a list or object property) binds tightest. */
const INDEX_POWER = 80;

/** Functions and how many arguments each takes. */
export const functions = {
  defined: [1, 1],
  boolean: [1, 1],
  number: [1, 1],
  string: [1, 2],
  datetime: [1, 1],
  floor: [1, 1],
  round: [1, 1],
  ceil: [1, 1],
  has_prefix: [2, 2],
} as const satisfies Record<string, readonly [number, number]>;

const scopes: readonly string[] = ["properties", "user", "event"];

export interface ParseLimits {
  /** Characters (default 10,000). */
  maxLength: number;
  /** Nesting of sub-expressions (default 64). */
  maxDepth: number;
}

export const defaultParseLimits: ParseLimits = { maxLength: 10_000, maxDepth: 64 };

const VALUE = "a value (a property, a literal, a function call, ( or [)";

export function parseExpression(source: string, limits: ParseLimits = defaultParseLimits): Expression {
  if (typeof source !== "string") throw new ParseError("the expression is not text", 1, ["a string"]);
  if (source.length > limits.maxLength) throw new ParseError(`the expression is ${source.length} characters long, more than the limit of ${limits.maxLength}`, limits.maxLength + 1, []);
  if (source.trim() === "") throw new ParseError("the expression is empty", 1, [VALUE]);
  return new Parser(tokenize(source), limits.maxDepth).parseAll();
}

const describe = (token: Token): string => (token.kind === "end" ? "end of expression" : `"${token.text}"`);

class Parser {
  private position = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly maxDepth: number,
  ) {}

  parseAll(): Expression {
    const expression = this.expression(0);
    const next = this.peek();
    if (next.kind !== "end") throw new ParseError(`unexpected ${describe(next)}`, next.column, ["an operator", "end of expression"]);
    return expression;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private advance(): Token {
    return this.tokens[this.position++]!;
  }

  private isSymbol(token: Token, symbol: string): boolean {
    return token.kind === "symbol" && token.value === symbol;
  }

  private expect(symbol: string, after: string): Token {
    const token = this.peek();
    if (!this.isSymbol(token, symbol)) throw new ParseError(`expected "${symbol}" ${after}, found ${describe(token)}`, token.column, [`"${symbol}"`]);
    return this.advance();
  }

  private expression(minPower: number): Expression {
    this.depth += 1;
    if (this.depth > this.maxDepth) throw new ParseError(`the expression nests deeper than the limit of ${this.maxDepth}`, this.peek().column, []);
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      if (this.isSymbol(token, "[")) {
        if (INDEX_POWER <= minPower) break;
        this.advance();
        const key = this.expression(0);
        this.expect("]", "to close the index");
        left = { type: "index", target: left, key, column: token.column };
        continue;
      }
      const entry = (token.kind === "symbol" || token.kind === "word") && Object.hasOwn(infix, token.value) ? infix[token.value] : undefined;
      if (!entry || entry.power <= minPower) break;
      this.advance();
      const right = this.operand(entry.power, token);
      left = { type: "binary", operator: entry.operator, left, right, column: token.column };
    }
    this.depth -= 1;
    return left;
  }

  /** The right side of an operator: a clear message when it is missing. */
  private operand(power: number, operator: Token): Expression {
    const next = this.peek();
    if (next.kind === "end" || this.isSymbol(next, ")") || this.isSymbol(next, "]") || this.isSymbol(next, ",")) {
      throw new ParseError(`expected a value after ${describe(operator)}, found ${describe(next)}`, next.column, [VALUE]);
    }
    return this.expression(power);
  }

  private prefix(): Expression {
    const token = this.advance();
    const column = token.column;
    switch (token.kind) {
      case "number":
      case "string":
        return { type: "literal", value: token.value, column };
      case "symbol":
        if (token.value === "(") {
          const inner = this.expression(0);
          this.expect(")", "to close the parenthesis");
          return inner;
        }
        if (token.value === "[") return { type: "list", items: this.arguments("]", "list"), column };
        if (token.value === "-") {
          const operand = this.operand(NEGATE_POWER, token);
          // -5 is a literal (so that `properties["x"] > -5` can be pushed down to InfluxDB).
          if (operand.type === "literal" && typeof operand.value === "number") return { type: "literal", value: -operand.value, column };
          return { type: "unary", operator: "-", operand, column };
        }
        break;
      case "word":
        if (token.value === "true" || token.value === "false") return { type: "literal", value: token.value === "true", column };
        if (token.value === "not") return { type: "unary", operator: "not", operand: this.operand(NOT_POWER, token), column };
        if (scopes.includes(token.value)) return this.property(token);
        if (Object.hasOwn(functions, token.value)) return this.call(token);
        throw new ParseError(
          `unknown name "${token.text}"`,
          column,
          ['properties["name"]', 'user["name"]', 'event["name"]', `a function (${Object.keys(functions).join(", ")})`, "true", "false", "not"],
        );
      case "end":
        break;
    }
    throw new ParseError(`expected a value, found ${describe(token)}`, column, [VALUE]);
  }

  private property(token: Token): Expression {
    this.expect("[", `after ${token.text}`);
    const name = this.peek();
    if (name.kind !== "string") throw new ParseError(`expected a quoted property name after ${token.text}[, found ${describe(name)}`, name.column, ['a string such as "$browser"']);
    this.advance();
    this.expect("]", "after the property name");
    return { type: "property", scope: token.value as Scope, name: name.value, column: token.column };
  }

  private call(token: Token): Expression {
    const name = token.value as FunctionName;
    this.expect("(", `after the function ${token.text}`);
    const args = this.arguments(")", `${token.text}()`);
    const [min, max] = functions[name];
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : `${min} or ${max}`;
      throw new ParseError(`${token.text}() takes ${wanted} argument${max === 1 ? "" : "s"}, got ${args.length}`, token.column, []);
    }
    return { type: "call", name, args, column: token.column };
  }

  /** Comma-separated expressions up to `close` (list items, call arguments). */
  private arguments(close: "]" | ")", what: string): Expression[] {
    const items: Expression[] = [];
    if (this.isSymbol(this.peek(), close)) {
      this.advance();
      return items;
    }
    for (;;) {
      items.push(this.expression(0));
      const next = this.peek();
      if (this.isSymbol(next, ",")) {
        this.advance();
        continue;
      }
      if (this.isSymbol(next, close)) {
        this.advance();
        return items;
      }
      throw new ParseError(`expected "," or "${close}" in the ${what}, found ${describe(next)}`, next.column, ['","', `"${close}"`]);
    }
  }
}

/** The properties an expression reads, by scope (to select only the columns it needs). */
export function referencedProperties(expression: Expression, into: Record<Scope, Set<string>> = { properties: new Set(), user: new Set(), event: new Set() }) {
  const stack: Expression[] = [expression];
  while (stack.length) {
    const node = stack.pop()!;
    switch (node.type) {
      case "property":
        into[node.scope].add(node.name);
        break;
      case "list":
        stack.push(...node.items);
        break;
      case "index":
        stack.push(node.target, node.key);
        break;
      case "binary":
        stack.push(node.left, node.right);
        break;
      case "unary":
        stack.push(node.operand);
        break;
      case "call":
        stack.push(...node.args);
        break;
      case "literal":
        break;
    }
  }
  return into;
}
