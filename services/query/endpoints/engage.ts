import { randomBytes } from "node:crypto";
import { compilePredicate, type Bindings } from "../expression/compile";
import type { Value } from "../expression/values";
import { LimitExceeded } from "../limits";
import { ParamError } from "../params";
import { profileIds, readProfiles } from "../profiles";
import type { Endpoint } from "./context";

/**
 * `/engage`: user profiles from the worker's store, filtered by `where` over their properties
 * (`properties["x"]` and `user["x"]` both name a profile property), `output_properties` to trim them,
 * pages of 1,000 in distinct-id order. The service keeps no state between pages: `session_id` is
 * handed out and accepted, and each page is computed again (a profile created meanwhile can shift
 * later pages by one).
 */

export const PAGE_SIZE = 1000;
const READ_BATCH = 500;

type Profile = Record<string, Value>;

export const engage: Endpoint = async (params, context) => {
  params.checkProject();
  for (const unsupported of ["data_group_id", "filter_by_cohort", "behaviors", "as_of_timestamp"]) {
    if (params.has(unsupported)) throw new ParamError(`${unsupported} is not supported by mixstack (group profiles and cohorts are not queryable here)`);
  }
  const where = params.expression("where");
  const output = params.stringList("output_properties");
  const page = params.integer("page", 0, 0, 1_000_000);
  if (page > 0 && !params.has("session_id")) throw new ParamError("page > 0 requires the session_id of the first page");
  const sessionId = params.optional("session_id") ?? `${Math.floor(context.now() / 1000)}-${randomBytes(6).toString("hex")}`;
  const asked = params.stringList("distinct_ids") ?? (params.has("distinct_id") ? [params.required("distinct_id")] : undefined);

  const ids = asked ? [...new Set(asked)].sort() : await profileIds(context.redis);
  if (ids.length > context.limits.maxProfiles) throw new LimitExceeded("maxProfiles", `the request reads ${ids.length} profiles, more than ${context.limits.maxProfiles}`);
  const bindings: Bindings<Profile> = {
    lookup: (scope, name) => (scope === "event" ? () => undefined : (profile) => (Object.hasOwn(profile, name) ? profile[name] : undefined)),
    zoneOffsetMs: context.zone.offsetOfWallTime,
  };
  const keep = compilePredicate(where, bindings);

  // Only ids are kept across batches; the profiles of the requested page are kept whole.
  const first = page * PAGE_SIZE;
  const results: Array<{ $distinct_id: string; $properties: Profile }> = [];
  let total = 0;
  for (let start = 0; start < ids.length; start += READ_BATCH) {
    if (context.signal.aborted) throw context.signal.reason;
    const batch = ids.slice(start, start + READ_BATCH);
    const profiles = await readProfiles(context.redis, batch);
    profiles.forEach((profile, index) => {
      if (!profile || !keep(profile)) return;
      if (total >= first && total < first + PAGE_SIZE) results.push({ $distinct_id: batch[index]!, $properties: trimmed(profile, output) });
      total += 1;
    });
    // Without a where every listed profile counts; the rest of the list need not be read.
    if (!where && !asked && total >= first + PAGE_SIZE) {
      total += ids.length - start - batch.length;
      break;
    }
  }
  return { status: 200, json: { page, page_size: PAGE_SIZE, results, session_id: sessionId, status: "ok", total } };
};

function trimmed(profile: Profile, output: readonly string[] | undefined): Profile {
  if (!output) return { ...profile };
  const kept: Profile = {};
  for (const name of output) if (Object.hasOwn(profile, name)) kept[name] = profile[name];
  return kept;
}
