/**
 * Secrets out of messages. A connection URL may carry a password (`REDIS_URL=redis://:pw@host`,
 * `rediss://user:pw@host`, `http://user:pw@influx:8086`): every error and log line that names a URL
 * prints it through here.
 */

/** The URL with the password of its user info replaced; works on text that does not parse as a URL. */
export function redactUrl(url: string): string {
  return url.replace(/^([^/?#]*\/\/[^/?#@:]*):[^/?#@]*@/, "$1:***@");
}
