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
 * Cost is linear: a list an entry appends to or unions into is read (and for `$union`/`$remove`
 * split) once per entry, kept in the script while its operations apply, and written back once
 * (`$append` never splits the stored text: it only adds to its end). Every update is checked against
 * the quotas first (the profile's bytes by `MEMORY USAGE`, its property count, the list property's
 * bytes); an update that would pass one is not applied at all, and reported.
 *
 * KEYS: stream, marker, index set, then one profile hash per update.
 * ARGV: entry id, marker TTL (s), profile max bytes, max properties, list max bytes, then the
 * instructions of `scriptInstructions`.
 * Returns the state and "<flags>|<refusals>": per operation 1 if it created the profile, 0 if not,
 * r if its update was refused ("1,0,r"); then `<update number>:<quota>` for each refused update.
 */
const applyProfilesSource = `${APPLY_ONCE_PROLOGUE}
local index = KEYS[3]
local max_bytes, max_properties, list_max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local function is_list(raw)
  return raw ~= nil and raw ~= false and string.byte(raw, 1) == 91
end

-- Splits a JSON array text (no whitespace outside strings) into the texts of its elements. Strings
-- are skipped with string.find, so the cost is per element rather than per character.
local function elements(raw)
  local items = {}
  local length = #raw
  if length <= 2 then return items end
  local depth, start, position = 0, 2, 2
  while position < length do
    local found = string.find(raw, '[",%[%]{}]', position)
    if not found or found >= length then break end
    local c = string.byte(raw, found)
    if c == 34 then
      local close = found
      repeat
        close = string.find(raw, '["\\\\]', close + 1)
        if close and string.byte(raw, close) == 92 then close = close + 1 elseif close then break end
      until not close
      position = (close or length) + 1
    else
      if c == 91 or c == 123 then depth = depth + 1
      elseif c == 93 or c == 125 then depth = depth - 1
      elseif depth == 0 then
        items[#items + 1] = string.sub(raw, start, found - 1)
        start = found + 1
      end
      position = found + 1
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

-- Lists being changed by this entry, by key then property:
-- { stored = text or false, added = {texts appended}, items = split elements or nil, present = set or nil, bytes = n }
local lists = {}
-- Bytes added to each key's lists and not written yet (for the profile's quota).
local pending = {}

local function entry_of(key, property)
  local of_key = lists[key]
  if not of_key then of_key = {} lists[key] = of_key end
  local entry = of_key[property]
  if not entry then
    local stored = redis.call('HGET', key, property)
    entry = { stored = stored, added = {}, bytes = stored and #stored or 2 }
    of_key[property] = entry
  end
  return entry
end

-- The elements of a list being changed (split once).
local function items_of(entry)
  if not entry.items then
    local items = list_of(entry.stored)
    for _, item in ipairs(entry.added) do items[#items + 1] = item end
    entry.items = items
    entry.added = {}
    local present = {}
    for _, item in ipairs(items) do present[item] = true end
    entry.present = present
  end
  return entry.items
end

local function write_entry(key, property, entry)
  if entry.items then
    redis.call('HSET', key, property, join(entry.items))
  elseif #entry.added > 0 then
    local stored = entry.stored
    local tail = table.concat(entry.added, ',')
    if not stored then redis.call('HSET', key, property, '[' .. tail .. ']')
    elseif is_list(stored) then
      if #stored <= 2 then redis.call('HSET', key, property, '[' .. tail .. ']')
      else redis.call('HSET', key, property, string.sub(stored, 1, -2) .. ',' .. tail .. ']') end
    else redis.call('HSET', key, property, '[' .. stored .. ',' .. tail .. ']') end
  end
end

-- Writes back (and forgets) one list, or every list of a key.
local function flush(key, property)
  local of_key = lists[key]
  if not of_key then return end
  if property then
    local entry = of_key[property]
    if entry then write_entry(key, property, entry) of_key[property] = nil end
  else
    for name, entry in pairs(of_key) do write_entry(key, name, entry) end
    lists[key] = nil
  end
  pending[key] = nil
end

local function forget(key, property)
  if lists[key] then
    if property then lists[key][property] = nil else lists[key] = nil end
  end
end

local function grows(op)
  return op == '$set' or op == '$set_once' or op == '$add' or op == '$append' or op == '$union'
end

-- Why the update starting at ARGV[i] must not be applied (a quota it would pass), or nil. Only
-- what the update adds counts: an update that does not grow the profile is never refused.
local function refusal(key, i)
  local growth, new_properties, seen = 0, 0, {}
  while i <= #ARGV and ARGV[i] == 'O' do
    local op, n = ARGV[i + 1], tonumber(ARGV[i + 2])
    if grows(op) then
      for j = 0, n - 1 do
        local property, value = ARGV[i + 3 + 2 * j], ARGV[i + 4 + 2 * j]
        local cached = lists[key] and lists[key][property]
        local stored = cached and cached.bytes or redis.call('HSTRLEN', key, property)
        local absent = not cached and stored == 0 and redis.call('HEXISTS', key, property) == 0
        if absent and not seen[property] then
          new_properties = new_properties + 1
          growth = growth + #property
        end
        seen[property] = true
        if op == '$append' or op == '$union' then
          if stored + #value + 1 > list_max then return 'list' end
          growth = growth + #value + 1
        elseif op == '$set' then
          growth = growth + math.max(0, #value - stored)
        elseif absent then
          growth = growth + #value
        end
      end
    end
    i = i + 3 + 2 * n
  end
  if new_properties > 0 and redis.call('HLEN', key) + new_properties > max_properties then return 'properties' end
  if growth > 0 and (redis.call('MEMORY', 'USAGE', key) or 0) + (pending[key] or 0) + growth > max_bytes then return 'bytes' end
  return nil
end

local flags, refused = {}, {}
local update = 0
local key, member
local skip = false
local i = 6
while i <= #ARGV do
  local tag = ARGV[i]
  if tag == 'U' then
    update = update + 1
    key = KEYS[3 + update]
    member = ARGV[i + 1]
    i = i + 2
    local why = refusal(key, i)
    skip = why ~= nil
    if skip then refused[#refused + 1] = update .. ':' .. why end
  elseif tag == 'L' then
    if not skip and redis.call('EXISTS', key) == 1 then
      local seen = redis.call('HGET', key, '$last_seen')
      if not seen or seen < ARGV[i + 1] then redis.call('HSET', key, '$last_seen', ARGV[i + 1]) end
    end
    i = i + 2
  else
    local op = ARGV[i + 1]
    local n = tonumber(ARGV[i + 2])
    local first = i + 3
    if skip then
      flags[#flags + 1] = 'r'
    else
      if op == '$delete' then
        forget(key)
        pending[key] = nil
        redis.call('DEL', key)
      else
        for j = 0, n - 1 do
          local property, value = ARGV[first + 2 * j], ARGV[first + 2 * j + 1]
          if op == '$append' or op == '$union' or op == '$remove' then
            if op ~= '$remove' and not (lists[key] and lists[key][property]) and redis.call('HEXISTS', key, property) == 0 then
              -- A new list is written at once (it is small): the profile exists from here on, and its
              -- properties keep the order they were set in.
              local items = op == '$union' and elements(value) or {value}
              if op == '$union' then
                local unique, present = {}, {}
                for _, item in ipairs(items) do if not present[item] then unique[#unique + 1] = item present[item] = true end end
                items = unique
              end
              redis.call('HSET', key, property, join(items))
            else
              local entry = entry_of(key, property)
              if op == '$append' then
                if entry.items then
                  entry.items[#entry.items + 1] = value
                  entry.present[value] = true
                else
                  entry.added[#entry.added + 1] = value
                end
                entry.bytes = entry.bytes + #value + 1
                pending[key] = (pending[key] or 0) + #value + 1
              elseif op == '$union' then
                local items = items_of(entry)
                for _, item in ipairs(elements(value)) do
                  if not entry.present[item] then
                    items[#items + 1] = item
                    entry.present[item] = true
                    entry.bytes = entry.bytes + #item + 1
                    pending[key] = (pending[key] or 0) + #item + 1
                  end
                end
              elseif entry.items or #entry.added > 0 or is_list(entry.stored) then
                -- $remove on a value that is not a list does nothing.
                local kept = {}
                for _, item in ipairs(items_of(entry)) do
                  if item ~= value then kept[#kept + 1] = item end
                end
                entry.items = kept
                local present = {}
                for _, item in ipairs(kept) do present[item] = true end
                entry.present = present
                entry.bytes = #join(kept)
              end
            end
          else
            -- Any other operation on a list being changed sees (and replaces) its written value.
            flush(key, property)
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
    end
    i = first + 2 * n
  end
end
for name in pairs(lists) do flush(name) end
local result = table.concat(flags, ',') .. '|' .. table.concat(refused, ',')
redis.call('SET', KEYS[2], result, 'EX', ARGV[2])
return {'applied', result}
`;

export const applyProfilesScript = new RedisScript("apply-profiles", applyProfilesSource, { allowOom: true });

/** The quotas of one profile (`WORKER_PROFILE_*`). */
export interface ProfileQuotas {
  maxBytes: number;
  maxProperties: number;
  listMaxBytes: number;
}

export const DEFAULT_PROFILE_QUOTAS: ProfileQuotas = { maxBytes: 1024 * 1024, maxProperties: 2000, listMaxBytes: 256 * 1024 };

/** An update the quotas kept out: its index in the entry and the quota (`bytes`, `properties`, `list`). */
export interface RefusedUpdate {
  index: number;
  quota: string;
}

export interface ApplyEntryOptions {
  stream?: string;
  entryId: string;
  /** The id whose marker guards the entry (the original id of a replayed dead letter). */
  markerId: string;
  ttlSeconds: number;
  quotas?: ProfileQuotas;
}

export interface AppliedEntry {
  /** One per applied operation, for `profile_updates`. */
  records: ProfileUpdateRecord[];
  /** Updates not applied because of a quota. */
  refused: RefusedUpdate[];
}

/**
 * Applies the planned updates of one entry; returns one record per applied operation (for
 * `profile_updates`) and the updates a quota refused, the same on a re-delivery, or "gone" when the
 * entry was finished elsewhere.
 */
export async function applyProfileEntry(
  redis: RedisConnection,
  kind: ProfileKind,
  updates: readonly PlannedUpdate[],
  options: ApplyEntryOptions,
): Promise<AppliedEntry | "gone"> {
  const { keys, args } = scriptInstructions(updates);
  const quotas = options.quotas ?? DEFAULT_PROFILE_QUOTAS;
  const reply = await applyProfilesScript.run(
    redis,
    [options.stream ?? redisKeys.stream, redisKeys.applied(options.markerId), indexKeyOf(kind), ...keys],
    [options.entryId, String(options.ttlSeconds), String(quotas.maxBytes), String(quotas.maxProperties), String(quotas.listMaxBytes), ...args],
  );
  const outcome = readApplyOutcome(reply);
  if (outcome.state === "gone") return "gone";
  // Markers written before the quotas existed hold only the flags.
  const [flagText = "", refusedText = ""] = outcome.result.split("|");
  const flags = flagText === "" ? [] : flagText.split(",");
  const refused = refusedText === "" ? [] : refusedText.split(",").map((item) => {
    const [number, quota] = item.split(":");
    return { index: updates[Number(number) - 1]!.index, quota: quota! };
  });
  const records: ProfileUpdateRecord[] = [];
  let position = 0;
  for (const update of updates) {
    for (const operation of update.operations) {
      if (flags[position] !== "r") {
        records.push({
          kind,
          op: operation.op,
          id: update.target.id,
          groupKey: update.target.groupKey,
          created: flags[position] === "1",
          time: update.time,
          key: `${options.markerId}:${update.index}:${operation.op}`,
        });
      }
      position += 1;
    }
  }
  return { records, refused };
}
