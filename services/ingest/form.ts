/**
 * Parses `application/x-www-form-urlencoded` text (a query string or a form body). Unlike
 * `URLSearchParams`, a value whose percent-encoding is broken or is not UTF-8 is reported instead of
 * being silently replaced with U+FFFD, so that bad input gets a clear error rather than wrong data.
 */
export interface FormFields {
  /** Decoded values; the first occurrence of a name wins. Null prototype: any name is safe. */
  values: Record<string, string>;
  /** Names whose value could not be decoded. */
  malformed: string[];
}

export function parseForm(text: string): FormFields {
  const values: Record<string, string> = Object.create(null);
  const malformed: string[] = [];
  if (text.length === 0) return { values, malformed };
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    if (end > start) {
      const pair = text.slice(start, end);
      const equals = pair.indexOf("=");
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      const rawValue = equals === -1 ? "" : pair.slice(equals + 1);
      const name = decodeComponent(rawName);
      if (name !== undefined && !(name in values)) {
        const value = decodeComponent(rawValue);
        if (value === undefined) malformed.push(name);
        else values[name] = value;
      }
    }
    start = end + 1;
  }
  return { values, malformed };
}

/** `+` is a space in form encoding; `undefined` when the escapes are broken or not UTF-8. */
export function decodeComponent(raw: string): string | undefined {
  const spaced = raw.includes("+") ? raw.replace(/\+/g, " ") : raw;
  if (!spaced.includes("%")) return spaced;
  // Hot path: URL-encoded base64 (every browser request) only escapes `+`, `/` and `=`; plain
  // substring replacement is several times faster than decodeURIComponent on a 40 KB value. It never
  // creates a `%`, so what is left (if anything) still decodes exactly as before.
  const common = spaced.split("%2B").join("+").split("%2F").join("/").split("%3D").join("=");
  if (!common.includes("%")) return common;
  try {
    return decodeURIComponent(common);
  } catch {
    return undefined;
  }
}
