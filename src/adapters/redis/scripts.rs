//! The Lua scripts of the Redis store: each is one atomic step on keys of
//! one hash slot.
//!
//! Owns: the script texts and their [`redis::Script`] handles (EVALSHA,
//! falling back to EVAL and loading on `NOSCRIPT`). May import `redis`.
//! Every key a script touches is passed in `KEYS` (Cluster routes on
//! them); the argument layout is documented above each script.

use std::sync::LazyLock;

use redis::Script;

/// Commits a transaction of one account.
///
/// `KEYS`: the account's revision counter; then one record key per
/// precondition; then per put its record key and name index; then per
/// delete its record key, name index and usage key; then, when `ARGV[4]`
/// is `1`, the generation counter, the accounts set and nothing else
/// (standalone and Sentinel, where one server holds every key).
/// `ARGV`: precondition count, put count, delete count, the global flag,
/// the channel to publish on, the message, what happens to the account
/// record (`add`, `rem` or empty) and the account id; then per
/// precondition the revision required (empty: absent); then per put its
/// name and JSON; then per delete its name.
///
/// Returns `{"ok", revision}`, or `{"dup"|"missing", i}` or
/// `{"stale", i, found}` for the `i`th (1-based) failed precondition.
pub(super) static COMMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local np, nput, ndel = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local global = ARGV[4] == '1'
local k, a = 2, 9
for i = 1, np do
  local v = redis.call('GET', KEYS[k])
  local want = ARGV[a]
  if want == '' then
    if v then return {'dup', i} end
  elseif not v then
    return {'missing', i}
  else
    local rev = string.match(v, '^(%d+) ') or '0'
    if rev ~= want then return {'stale', i, rev} end
  end
  k = k + 1
  a = a + 1
end
if nput + ndel == 0 then
  return {'ok', redis.call('GET', KEYS[1]) or '0'}
end
local rev = tostring(redis.call('INCR', KEYS[1]))
for i = 1, nput do
  redis.call('SET', KEYS[k], rev .. ' ' .. ARGV[a + 1])
  redis.call('ZADD', KEYS[k + 1], 0, ARGV[a])
  k = k + 2
  a = a + 2
end
for i = 1, ndel do
  redis.call('DEL', KEYS[k], KEYS[k + 2])
  redis.call('ZREM', KEYS[k + 1], ARGV[a])
  k = k + 3
  a = a + 1
end
if global then
  redis.call('INCR', KEYS[k])
  if ARGV[7] == 'add' then
    redis.call('ZADD', KEYS[k + 1], 0, ARGV[8])
  elseif ARGV[7] == 'rem' then
    redis.call('ZREM', KEYS[k + 1], ARGV[8])
  end
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'ok', rev}
",
    )
});

/// Claims access key id `KEYS[1]` for account `ARGV[1]`.
///
/// Returns `1` when claimed now, `0` when the account already held it,
/// or the account that holds it.
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
elseif owner == ARGV[1] then
  return 0
end
return owner
",
    )
});

/// Deletes `KEYS[1]` if it holds `ARGV[1]`.
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// Sets the usage key `KEYS[2]` to `ARGV[1]` if the record `KEYS[1]`
/// exists; returns whether it did. Sent as `EVAL` in pipelines.
pub(super) const RECORD_USE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1])
  return 1
end
return 0
";

/// Puts revocation rule `ARGV[1]` (JSON) under id `ARGV[2]`, retained
/// until `ARGV[3]` (unix seconds), and publishes `ARGV[5]` on `ARGV[4]`.
/// `KEYS`: the rules hash, the retention set, the counter. Returns the
/// counter after the put.
pub(super) static PUT_REVOCATION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
local counter = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return counter
",
    )
});

/// Removes the revocation rules retained until before `ARGV[1]`.
/// `KEYS`: the rules hash, the retention set. Returns how many.
pub(super) static PURGE_REVOCATIONS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #ids
",
    )
});
