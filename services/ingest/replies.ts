import type { Rejection } from "./rejection";

/**
 * The exact bytes the SDKs expect (spec §1.3): `1`/`0` with no newline, `{"error":..,"status":..}`
 * with `verbose=1`, a 1×1 GIF with `img=1`, `callback(...)` for JSONP, and the JSON objects of
 * `/import` in strict mode.
 */

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface ReplyFormat {
  verbose: boolean;
  img: boolean;
  callback?: string;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

/** A transparent 1×1 GIF. */
export const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

/** Mixpanel's JSONP names look like `mixpanel._jsc[12345678]`; anything else could inject script. */
const CALLBACK = /^[A-Za-z_$][\w$.[\]]{0,127}$/;
const EMPTY_CALLBACK = "(function(){})";

export function isValidCallback(name: string): boolean {
  return name === EMPTY_CALLBACK || CALLBACK.test(name);
}

/** Reads `verbose`, `img` and `callback`; an invalid callback name is answered without JSONP. */
export function replyFormat(params: Record<string, string>): ReplyFormat {
  const callback = params.callback;
  return {
    verbose: params.verbose === "1" || params.verbose === "2" || params.verbose === "true",
    img: params.img === "1" || params.img === "true",
    callback: callback !== undefined && callback !== "" && isValidCallback(callback) ? callback : undefined,
  };
}

const OK_VERBOSE = '{"error":null,"status":1}';

/** `/track`, `/engage`, `/groups` and legacy `/import`: success when `error` is null. */
export function legacyReply(format: ReplyFormat, status: number, error: string | null): Reply {
  if (format.img) return { status, headers: { "Content-Type": "image/gif", "Cache-Control": "no-cache, no-store" }, body: PIXEL };
  const verboseBody = error === null ? OK_VERBOSE : JSON.stringify({ error, status: 0 });
  if (format.callback) {
    const inner = format.verbose ? verboseBody : error === null ? "1" : "0";
    return { status, headers: { "Content-Type": "text/javascript; charset=utf-8" }, body: `${format.callback}(${inner})` };
  }
  if (format.verbose) return { status, headers: { "Content-Type": JSON_TYPE }, body: verboseBody };
  return { status, headers: { "Content-Type": TEXT }, body: error === null ? "1" : "0" };
}

export interface FailedRecord {
  index: number;
  $insert_id?: string;
  field: string;
  message: string;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/** `/import` in strict mode: partial success is a 400 that lists the failed records. */
export function strictImportReply(imported: number, failed: FailedRecord[]): Reply {
  if (failed.length === 0) {
    return jsonReply(200, { code: 200, num_records_imported: imported, status: "OK" });
  }
  return jsonReply(400, {
    code: 400,
    error: "some data points in the request failed validation",
    status: "Bad Request",
    num_records_imported: imported,
    failed_records: failed,
  });
}

/** `/import` strict-mode answer to a whole-request problem (401, 413, 400, 503). */
export function strictErrorReply(status: number, error: string): Reply {
  return jsonReply(status, { code: status, error, status: STATUS_TEXT[status] ?? "Error", num_records_imported: 0 });
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { "Content-Type": JSON_TYPE }, body: JSON.stringify(value) };
}

export function textReply(status: number, text: string): Reply {
  return { status, headers: { "Content-Type": TEXT }, body: text };
}

export function failedRecord(index: number, rejection: Rejection, raw: unknown): FailedRecord {
  const insertId = insertIdOf(raw);
  return { index, ...(insertId ? { $insert_id: insertId } : {}), field: rejection.field, message: rejection.message };
}

function insertIdOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const properties = (raw as { properties?: unknown }).properties;
  if (typeof properties !== "object" || properties === null) return undefined;
  const id = (properties as { $insert_id?: unknown }).$insert_id;
  return typeof id === "string" ? id.slice(0, 64) : undefined;
}
