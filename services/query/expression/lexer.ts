import { ParseError } from "./parse-error";

/** The tokens of the expression language. Keywords are case-insensitive (`AND`, `And`, `and`). */
export type Token =
  | { kind: "number"; value: number; column: number; text: string }
  | { kind: "string"; value: string; column: number; text: string }
  | { kind: "word"; value: string; column: number; text: string }
  | { kind: "symbol"; value: string; column: number; text: string }
  | { kind: "end"; value: ""; column: number; text: "" };

const SYMBOLS = ["==", "!=", ">=", "<=", "=", ">", "<", "+", "-", "*", "/", "%", "(", ")", "[", "]", ","];
const escapes: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Splits an expression into tokens; columns are 1-based, as a compiler prints them. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < source.length) {
    const char = source[position]!;
    if (/\s/.test(char)) {
      position += 1;
      continue;
    }
    const column = position + 1;
    if (/[0-9.]/.test(char)) {
      const match = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(source.slice(position));
      if (!match) throw new ParseError(`unexpected "${char}"`, column, ["a number"]);
      const text = match[0];
      const value = Number(text);
      if (!Number.isFinite(value)) throw new ParseError(`number ${text} is too large`, column, ["a finite number"]);
      if (/[A-Za-z_]/.test(source[position + text.length] ?? "")) {
        throw new ParseError(`unexpected "${source[position + text.length]}" after the number ${text}`, column + text.length, ["an operator"]);
      }
      tokens.push({ kind: "number", value, column, text });
      position += text.length;
      continue;
    }
    if (char === '"' || char === "'") {
      let value = "";
      let cursor = position + 1;
      for (;;) {
        const next = source[cursor];
        if (next === undefined) throw new ParseError("unterminated string", column, [`a closing ${char}`]);
        if (next === char) break;
        if (next === "\\") {
          const escaped = source[cursor + 1];
          if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(source.slice(cursor + 2, cursor + 6))) {
            value += String.fromCharCode(parseInt(source.slice(cursor + 2, cursor + 6), 16));
            cursor += 6;
            continue;
          }
          if (escaped === undefined || !Object.hasOwn(escapes, escaped)) {
            throw new ParseError(`unknown escape "\\${escaped ?? ""}"`, cursor + 1, ['one of \\" \\\' \\\\ \\n \\t \\r \\b \\f \\/ \\uXXXX']);
          }
          value += escapes[escaped];
          cursor += 2;
          continue;
        }
        value += next;
        cursor += 1;
      }
      tokens.push({ kind: "string", value, column, text: source.slice(position, cursor + 1) });
      position = cursor + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(char)) {
      const text = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(position))![0];
      tokens.push({ kind: "word", value: text.toLowerCase(), column, text });
      position += text.length;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => source.startsWith(candidate, position));
    if (!symbol) throw new ParseError(`unexpected "${char}"`, column, ["an expression"]);
    tokens.push({ kind: "symbol", value: symbol, column, text: symbol });
    position += symbol.length;
  }
  tokens.push({ kind: "end", value: "", column: source.length + 1, text: "" });
  return tokens;
}
