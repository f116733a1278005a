/**
 * Inputs of ../shared/reference/mixpanel-ingestion-api.md §6 used by more than one test, in one place
 * so that ingest's and the worker's tests exercise the same sequence.
 */

/** Case 8: these profile operations, in order, leave `{a: 1, n: 4, tags: ["y"], list: ["z"]}`. */
export const CASE_8_PROFILE_STEPS = [
  { $set: { a: 1 } },
  { $set_once: { a: 2, b: 2 } },
  { $add: { n: 2 } },
  { $add: { n: 2 } },
  { $union: { tags: ["x", "x", "y"] } },
  { $append: { list: "z" } },
  { $remove: { tags: "x" } },
  { $unset: ["b"] },
] as const;
