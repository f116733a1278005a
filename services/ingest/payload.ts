import { isUtf8 } from "node:buffer";
import { parseForm } from "./form";
import { Rejection } from "./rejection";

/**
 * Finds and decodes the Mixpanel payload of a request (spec §5 items 1–3): the `data` field of a
 * form body (also `text/plain` from sendBeacon, or no Content-Type), else `data` in the query,
 * else a raw JSON or NDJSON body. `data` is base64 (standard, URL-safe, unpadded; the Node SDK's
 * unencoded `+` arrives as a space) or raw JSON. The result is always a list of items.
 */

export interface PayloadSource {
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Query parameters whose percent-encoding was broken. */
  malformedQuery: string[];
  contentType: string;
  /** The (decompressed) body; empty when there is none. */
  body: Buffer;
}

export interface Payload {
  items: unknown[];
  /** `data` for the legacy parameter (query or form), `body` for a JSON/NDJSON body. */
  source: "data" | "body";
  /** Form fields other than `data` (e.g. `verbose`, `api_key` sent in the body), merged under the query. */
  formFields: Record<string, string>;
  /** NDJSON lines that did not parse, by item index; those items are `undefined` in `items`. */
  invalidLines: Map<number, string>;
}

const noFields: Record<string, string> = Object.freeze(Object.create(null));

/**
 * `tokens`: the request must name one of them somewhere (`/track`, `/engage`, `/groups`, whose items
 * carry the token): a large payload that contains none is refused before `JSON.parse`, the one
 * expensive step, since every item of it would be refused anyway.
 */
export function extractPayload(source: PayloadSource, maxItems: number, tokens?: readonly string[]): Payload | Rejection {
  const { body } = source;
  if (body.length > 0 && !isBlank(body)) {
    if (!isUtf8(body)) return new Rejection("bad_utf8", "body", "not valid UTF-8");
    const text = body.toString("utf8");
    if (looksLikeJsonBody(source.contentType, text)) {
      return withoutToken(text, tokens, "body") ?? parseJsonBody(text, source.contentType, maxItems);
    }
    const form = parseForm(text.trim());
    if (form.malformed.includes("data")) return new Rejection("bad_encoding", "data", "invalid percent-encoding or not UTF-8");
    if (form.values.data !== undefined) return fromData(form.values.data, form.values, maxItems, tokens);
    if (source.query.data === undefined) return new Rejection("missing_data", "data", "missing or empty");
  }
  if (source.malformedQuery.includes("data")) return new Rejection("bad_encoding", "data", "invalid percent-encoding or not UTF-8");
  if (source.query.data !== undefined) return fromData(source.query.data, noFields, maxItems, tokens);
  return new Rejection("missing_data", "data", "missing or empty");
}

/** Payloads shorter than this are parsed in any case: their items get their own, precise, errors. */
export const TOKEN_PRECHECK_BYTES = 16 * 1024;

function withoutToken(text: string, tokens: readonly string[] | undefined, field: string): Rejection | undefined {
  if (tokens === undefined || text.length < TOKEN_PRECHECK_BYTES) return undefined;
  for (const token of tokens) if (text.includes(token)) return undefined;
  return new Rejection("unknown_token", field, "names no project token of this server", { label: `token (${field})` });
}

function fromData(data: string, formFields: Record<string, string>, maxItems: number, tokens?: readonly string[]): Payload | Rejection {
  const decoded = decodeDataParam(data, tokens);
  if (decoded instanceof Rejection) return decoded;
  const items = asItems(decoded, maxItems, "data");
  if (items instanceof Rejection) return items;
  return { items, source: "data", formFields, invalidLines: new Map() };
}

/** Decodes one `data` value: raw JSON when it starts with `{` or `[`, otherwise base64 of JSON. */
export function decodeDataParam(data: string, tokens?: readonly string[]): unknown | Rejection {
  const trimmed = data.trim();
  if (trimmed.length === 0) return new Rejection("missing_data", "data", "missing or empty");
  const first = trimmed.charCodeAt(0);
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) return withoutToken(trimmed, tokens, "data") ?? parseJson(trimmed, "data");
  // Form decoding turned the Node SDK's unencoded `+` into spaces; base64 has no spaces.
  const base64 = trimmed.includes(" ") ? trimmed.replace(/ /g, "+") : trimmed;
  const bytes = decodeBase64(base64);
  if (!bytes) return new Rejection("bad_base64", "data", "neither JSON nor valid base64");
  if (!isUtf8(bytes)) return new Rejection("bad_utf8", "data", "decoded base64 is not valid UTF-8");
  const text = bytes.toString("utf8");
  if (text.trim().length === 0) return new Rejection("missing_data", "data", "missing or empty");
  return withoutToken(text, tokens, "data") ?? parseJson(text, "data");
}

/**
 * Decodes standard or URL-safe base64, padding optional but never wrong; `undefined` for anything
 * else. Node's decoder skips characters outside the alphabet (and stops at an inner `=`), so a
 * decoded length short of what the input length promises means the input was not base64; this is
 * much cheaper than a regular expression over a 40 KB string.
 */
export function decodeBase64(text: string): Buffer | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */) end--;
  const padding = text.length - end;
  if (end === 0 || end % 4 === 1 || padding > 2 || (padding > 0 && text.length % 4 !== 0)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.length === Math.floor((end * 3) / 4) ? bytes : undefined;
}

export function isBase64(text: string): boolean {
  return decodeBase64(text) !== undefined;
}

/**
 * The most JSON objects and arrays one request may hold: 100 per item of a full 2,000-item batch,
 * far above what any SDK sends. `JSON.parse` costs by container, not by byte: 10 MiB of `[[],[],…]`
 * (or ~10 KB of gzip that expands to it) took seconds of CPU and hundreds of MB, so such a body is
 * refused before parsing. Brackets inside strings count too, which only errs on the safe side.
 */
export const MAX_JSON_CONTAINERS = 200_000;

/**
 * The most object keys one request may hold: 200 per item of a full batch. Keys cost `JSON.parse`
 * more than any other byte (each distinct one is a new property name: 1 MiB of them took 60-100 ms,
 * 10 MiB 0.7-1.3 s), so they are counted too, by their `:` (every key has one; colons inside
 * strings count as well, which only errs on the safe side).
 */
export const MAX_JSON_KEYS = 400_000;

/**
 * The most keys one JSON object of a large payload may have. No object of the data model has more
 * than `MIXSTACK_MAX_PROPERTIES` (255) plus a few reserved keys, so such an object is refused with
 * its item anyway; in a large payload it is refused before parsing, since one object of many
 * distinct keys is the most expensive thing `JSON.parse` can be given (1 MiB of them: 50-100 ms of
 * ingest's one thread). The whole request is refused (413: mixpanel-browser halves its batch).
 */
export const MAX_OBJECT_KEYS = 1000;
/** Payloads up to this size are parsed without the scan (every browser batch; they are cheap). */
export const OBJECT_SCAN_BYTES = 64 * 1024;

/**
 * Whether some object of `text` has more than `limit` keys, by one pass over the structure (strings
 * skipped with `indexOf`): about 1 ms per 500 KB of ordinary events, a fraction of `JSON.parse`.
 * Text that is not JSON is left to the parser, which says what is wrong with it.
 */
export function hasWideObject(text: string, limit: number): boolean {
  const keys: number[] = [];
  let depth = -1;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (char === 0x22 /* " */) {
      let end = text.indexOf('"', index + 1);
      for (;;) {
        if (end === -1) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c /* \ */) backslashes += 1;
        if (backslashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      index = end;
    } else if (char === 0x7b /* { */) keys[++depth] = 0;
    else if (char === 0x5b /* [ */) keys[++depth] = -1;
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth -= 1;
    else if (char === 0x3a /* : */ && depth >= 0 && keys[depth]! >= 0 && ++keys[depth]! > limit) return true;
  }
  return false;
}

/** A 413 when `text` has more `{`/`[` or more `:` than the limits, or (when large) an object of too many keys. */
function tooManyContainers(text: string, field: string): Rejection | undefined {
  if (text.length > OBJECT_SCAN_BYTES && hasWideObject(text, MAX_OBJECT_KEYS)) {
    return new Rejection("too_many_keys", field, `holds an object of more than ${MAX_OBJECT_KEYS} keys`, { status: 413 });
  }
  if (text.length <= MAX_JSON_CONTAINERS) return undefined;
  let count = 0;
  for (const bracket of ["{", "["]) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++count > MAX_JSON_CONTAINERS) {
        return new Rejection("too_many_containers", field, `holds more than ${MAX_JSON_CONTAINERS} JSON objects and arrays`, { status: 413 });
      }
    }
  }
  if (text.length <= MAX_JSON_KEYS) return undefined;
  let keys = 0;
  for (let at = text.indexOf(":"); at !== -1; at = text.indexOf(":", at + 1)) {
    if (++keys > MAX_JSON_KEYS) return new Rejection("too_many_containers", field, `holds more than ${MAX_JSON_KEYS} JSON object keys`, { status: 413 });
  }
  return undefined;
}

function parseJson(text: string, field: string): unknown | Rejection {
  const overLimit = tooManyContainers(text, field);
  if (overLimit) return overLimit;
  try {
    return JSON.parse(text);
  } catch (error) {
    return new Rejection("bad_json", field, `not valid JSON (${shortJsonError(error)})`);
  }
}

function shortJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 120 ? `${message.slice(0, 120)}…` : message;
}

function asItems(value: unknown, maxItems: number, field: string): unknown[] | Rejection {
  if (Array.isArray(value)) {
    if (value.length === 0) return new Rejection("missing_data", field, "missing or empty");
    if (value.length > maxItems) return tooMany(value.length, maxItems);
    return value;
  }
  if (typeof value === "object" && value !== null) return [value];
  return new Rejection("not_object", field, `expected an object or an array of objects, got ${value === null ? "null" : typeof value}`);
}

function tooMany(count: number, maxItems: number): Rejection {
  return new Rejection("too_many_items", "", `request has ${count} items, more than the limit of ${maxItems}`, { status: 413 });
}

function looksLikeJsonBody(contentType: string, text: string): boolean {
  if (contentType.includes("json")) return true; // application/json, application/x-ndjson
  const first = firstNonSpace(text);
  return first === "{" || first === "[";
}

function parseJsonBody(text: string, contentType: string, maxItems: number): Payload | Rejection {
  const ndjson = contentType.includes("ndjson") || contentType.includes("jsonl");
  if (!ndjson) {
    const parsed = parseJson(text, "body");
    if (!(parsed instanceof Rejection)) {
      const items = asItems(parsed, maxItems, "body");
      if (items instanceof Rejection) return items;
      return { items, source: "body", formFields: noFields, invalidLines: new Map() };
    }
    // Several JSON objects on separate lines without the NDJSON content type: still NDJSON.
    // `[ \t\r]*`, not `\s*`: `\s` matches the newline too, and a body of many newlines then made the
    // search quadratic (40,000 newlines took seconds).
    if (!/\n[ \t\r]*[{[]/.test(text)) return parsed;
  }
  return parseNdjson(text, maxItems);
}

function parseNdjson(text: string, maxItems: number): Payload | Rejection {
  const overLimit = tooManyContainers(text, "body");
  if (overLimit) return overLimit;
  const items: unknown[] = [];
  const invalidLines = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (line.trim().length === 0) continue;
    if (items.length === maxItems) return tooMany(items.length + 1, maxItems);
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      invalidLines.set(items.length, `not valid JSON (${shortJsonError(error)})`);
      items.push(undefined);
    }
  }
  if (items.length === 0) return new Rejection("missing_data", "body", "missing or empty");
  return { items, source: "body", formFields: noFields, invalidLines };
}

function isBlank(body: Buffer): boolean {
  for (const byte of body) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

function firstNonSpace(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char !== " " && char !== "\n" && char !== "\r" && char !== "\t") return char;
  }
  return "";
}
