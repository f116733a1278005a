import { redisKeys } from "../core/queue";
import { indexKeyOf, scriptInstructions, type PlannedUpdate, type ProfileKind } from "./profile-ops";
import type { RedisConnection } from "./redis-connection";
import { APPLY_ONCE_PROLOGUE, RedisScript, readApplyOutcome } from "./redis-script";
import type { ProfileUpdateRecord } from "./schema";

/**
 * Applies the profile/group updates of one stream entry in Redis, atomically and once: one Lua script
 * per entry, guarded by the entry's `mx:applied:<id>` marker (see `APPLY_ONCE_PROLOGUE`). Values are
 * JSON texts produced by `JSON.stringify` in `profile-ops.ts`; the script never decodes JSON with
 * cjson (whose number formatting and empty-array handling would change values). Lists are split into
 * their element texts by a small scanner, so `$union`/`$remove` compare elements by their JSON text.
 *
 * KEYS: stream, marker, index set, then one profile hash per update.
 * ARGV: entry id, marker TTL (s), then the instructions of `scriptInstructions`.
 * Returns the state and, per applied operation, 1 if it created the profile, else 0 ("1,0,0").
 */
const applyProfilesSource = `${APPLY_ONCE_PROLOGUE}
local index = KEYS[3]

local function is_list(raw)
  return raw ~= nil and raw ~= false and string.byte(raw, 1) == 91
end

-- Splits a JSON array text (no whitespace outside strings) into the texts of its elements.
local function elements(raw)
  local items = {}
  local length = #raw
  if length <= 2 then return items end
  local depth, in_string, escaped, start = 0, false, false, 2
  for position = 2, length - 1 do
    local c = string.byte(raw, position)
    if in_string then
      if escaped then escaped = false
      elseif c == 92 then escaped = true
      elseif c == 34 then in_string = false end
    elseif c == 34 then in_string = true
    elseif c == 91 or c == 123 then depth = depth + 1
    elseif c == 93 or c == 125 then depth = depth - 1
    elseif c == 44 and depth == 0 then
      items[#items + 1] = string.sub(raw, start, position - 1)
      start = position + 1
    end
  end
  items[#items + 1] = string.sub(raw, start, length - 1)
  return items
end

local function list_of(raw)
  if not raw then return {} end
  if is_list(raw) then return elements(raw) end
  return {raw}
end

local function join(items)
  return '[' .. table.concat(items, ',') .. ']'
end

-- A JSON number text, or nil for anything else (strings, booleans, lists, null).
local function as_number(raw)
  if string.match(raw, '^%-?%d') then return tonumber(raw) end
  return nil
end

-- The shortest text that reads back as the same double, as JavaScript prints it.
local function number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return nil end
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  for precision = 15, 17 do
    local text = string.format('%.' .. precision .. 'g', n)
    if tonumber(text) == n then return text end
  end
  return string.format('%.17g', n)
end

local flags = {}
local update = 0
local key, member
local i = 3
while i <= #ARGV do
  local tag = ARGV[i]
  if tag == 'U' then
    update = update + 1
    key = KEYS[3 + update]
    member = ARGV[i + 1]
    i = i + 2
  elseif tag == 'L' then
    if redis.call('EXISTS', key) == 1 then
      local seen = redis.call('HGET', key, '$last_seen')
      if not seen or seen < ARGV[i + 1] then redis.call('HSET', key, '$last_seen', ARGV[i + 1]) end
    end
    i = i + 2
  else
    local op = ARGV[i + 1]
    local n = tonumber(ARGV[i + 2])
    local first = i + 3
    if op == '$delete' then
      redis.call('DEL', key)
    else
      for j = 0, n - 1 do
        local property, value = ARGV[first + 2 * j], ARGV[first + 2 * j + 1]
        if op == '$set' then
          redis.call('HSET', key, property, value)
        elseif op == '$set_once' then
          redis.call('HSETNX', key, property, value)
        elseif op == '$unset' then
          redis.call('HDEL', key, property)
        elseif op == '$add' then
          local current = redis.call('HGET', key, property)
          local base = 0
          if current then base = as_number(current) end
          if base then
            local sum = number_text(base + tonumber(value))
            if sum then redis.call('HSET', key, property, sum) end
          end
        elseif op == '$append' then
          local current = redis.call('HGET', key, property)
          local items = list_of(current)
          items[#items + 1] = value
          redis.call('HSET', key, property, join(items))
        elseif op == '$union' then
          local current = redis.call('HGET', key, property)
          local items = list_of(current)
          local present = {}
          for _, item in ipairs(items) do present[item] = true end
          for _, item in ipairs(elements(value)) do
            if not present[item] then
              items[#items + 1] = item
              present[item] = true
            end
          end
          redis.call('HSET', key, property, join(items))
        elseif op == '$remove' then
          local current = redis.call('HGET', key, property)
          if is_list(current) then
            local kept = {}
            for _, item in ipairs(elements(current)) do
              if item ~= value then kept[#kept + 1] = item end
            end
            redis.call('HSET', key, property, join(kept))
          end
        end
      end
    end
    local created = 0
    if redis.call('EXISTS', key) == 1 then
      if redis.call('SADD', index, member) == 1 then created = 1 end
    else
      redis.call('SREM', index, member)
    end
    flags[#flags + 1] = created
    i = first + 2 * n
  end
end
local result = table.concat(flags, ',')
redis.call('SET', KEYS[2], result, 'EX', ARGV[2])
return {'applied', result}
`;

export const applyProfilesScript = new RedisScript("apply-profiles", applyProfilesSource);

export interface ApplyEntryOptions {
  stream?: string;
  entryId: string;
  /** The id whose marker guards the entry (the original id of a replayed dead letter). */
  markerId: string;
  ttlSeconds: number;
}

/**
 * Applies the planned updates of one entry; returns one record per applied operation (for
 * `profile_updates`), the same records on a re-delivery, or "gone" when the entry was finished elsewhere.
 */
export async function applyProfileEntry(
  redis: RedisConnection,
  kind: ProfileKind,
  updates: readonly PlannedUpdate[],
  options: ApplyEntryOptions,
): Promise<ProfileUpdateRecord[] | "gone"> {
  const { keys, args } = scriptInstructions(updates);
  const reply = await applyProfilesScript.run(
    redis,
    [options.stream ?? redisKeys.stream, redisKeys.applied(options.markerId), indexKeyOf(kind), ...keys],
    [options.entryId, String(options.ttlSeconds), ...args],
  );
  const outcome = readApplyOutcome(reply);
  if (outcome.state === "gone") return "gone";
  const flags = outcome.result === "" ? [] : outcome.result.split(",");
  const records: ProfileUpdateRecord[] = [];
  let position = 0;
  for (const update of updates) {
    for (const operation of update.operations) {
      records.push({
        kind,
        op: operation.op,
        id: update.target.id,
        groupKey: update.target.groupKey,
        created: flags[position] === "1",
        time: update.time,
        key: `${options.markerId}:${update.index}:${operation.op}`,
      });
      position += 1;
    }
  }
  return records;
}
