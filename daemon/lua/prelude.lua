-- prelude.lua - lr.lua's start: the call's prefix and time, helpers, and what a call defers to its end (counters, list pushes).
--
-- lr.lua is leadrouted's atomic operations on Redis, one script with one
-- entry per operation. Every state change of the router happens here,
-- inside one script call, so it is all-or-nothing and serialised with
-- every other instance's: claiming work into an instance's in-flight hash,
-- committing scored leads (record, assignment, backlog, nurture, dead
-- letter, removal from in-flight), applying events, draining backlogs,
-- heartbeats and the requeueing of a dead instance's in-flight work.
--
-- The Makefile builds the one script from the parts of daemon/lua/, in
-- this order: prelude.lua, claim.lua (a claim returns at its end),
-- deliver.lua (so do the webhook sender's calls), outbox.lua,
-- calendar.lua, reps.lua, inflight.lua, then between lazy_begin.lua and
-- lazy_end.lua (made only for their own operations) events.lua, sla.lua,
-- forecast.lua, stats.lua, reseg.lua, read.lua, and dispatch.lua last.
-- They write every key name, word and argument position with the names
-- of include/keys.h and include/wire.h: K.NAME and KT.NAME a key's head
-- and tail; OP, KIND, MODE, RES, ERR the words; a table per layout of
-- arguments and replies
-- (LEAD.SEQ, LEAD_FIELDS). daemon/lua/wire2lua.c inlines their values at
-- build time; build/gen/wire.lua lists them all.
--
-- KEYS[1] is a key under the prefix, so that Redis Cluster routes the call
-- to the slot of the prefix's hash tag. ARGV is laid out as wire.h's
-- SCRIPT: the operation, the key prefix, the operation's arguments. Times
-- come from Redis TIME: one clock for every instance.

if redis.replicate_commands then
	redis.replicate_commands()	-- effects replication before Redis 7
end

local DAY_S = 86400
local DAY_MS = DAY_S * 1000
local DAILY_KEEP_DAYS = 400	-- NAME:DAY counter hashes live this long
local SOURCE_KEY_MAX = 64	-- bytes of a source's name in counters
local REASON_MAX = 128		-- bytes of a rejection reason kept
local REASONS_MAX = 1000	-- distinct reasons in calib:reasons
local PUSH_CHUNK = 1000		-- values per push (unpack's C-stack limit)
local OTHER = 'other'		-- the name of what is not counted by name
local OUTCOMES_MAX = 32		-- outcome words counted by name, won... included
local OUTCOMES_KNOWN = {won = true, lost = true, disqualified = true}
local OUTCOMES_FREE = OUTCOMES_MAX - 3	-- other words in K.OUTCOMES

local P = ARGV[1 + SCRIPT.PREFIX]
local T = redis.call('TIME')
local NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)

-- Argument i of the operation, i as its layout in wire.h says.
local function op_arg(i)
	return ARGV[1 + SCRIPT.ARGS + i]
end

-- The operations: ops[OP.NAME] is the entry of the operation NAME.
local ops = {}

local R		-- the routing table of the calling instance's config

-- The webhook outbox's event points that live in this part, defined by
-- outbox.lua (a later part).
local wh_nurtured, wh_alert

-- Decode the routing table, argument i of the operation (X.ROUTING).
local function load_routing(i)
	R = cjson.decode(op_arg(i))
end

local function fmt(n)
	return string.format('%d', n)
end

local function jstr(s)
	return cjson.encode(s)
end

-- Lead ids, rep ids, segment names and alert types are of characters that
-- need no JSON escaping (the daemon and the config check them): quoting is
-- enough, and much cheaper than an encoder call per field.
local function q(s)
	return '"' .. s .. '"'
end

-- Counters accumulated during the call and written once at the end.
local stats = {}
local function stat(field, n)
	stats[field] = (stats[field] or 0) + (n or 1)
end

-- cache[a][b]: head .. a .. mid .. b (head, mid: nothing when nil), built
-- once per call. The names a call builds from parts again and again (stat
-- fields, a rep's keys) cost a table lookup, not a new string, each time.
local function joined(cache, a, b, head, mid)
	local t = cache[a]
	if not t then
		t = {}
		cache[a] = t
	end
	local v = t[b]
	if not v then
		v = (head or '') .. a .. (mid or '') .. b
		t[b] = v
	end
	return v
end

-- prefix .. name (stat fields by segment and rep).
local names = {}
local function name2(prefix, name)
	return joined(names, prefix, name)
end

-- The histogram bucket of ms: the first bound (ms, ascending, from the
-- daemon) it does not exceed, #bounds + 1 above them all.
local function bucket(bounds, ms)
	for k, b in ipairs(bounds) do
		if ms <= b then
			return k
		end
	end
	return #bounds + 1
end

-- A histogram observation.
local hnames = {}	-- histogram name -> its field names, once per call
local function observe(name, bounds, ms)
	local h = hnames[name]
	if not h then
		h = {head = 'h:' .. name .. ':', sum = 'h:' .. name .. ':sum',
		    count = 'h:' .. name .. ':count'}
		hnames[name] = h
	end
	stat(name2(h.head, bucket(bounds, ms)))
	stat(h.sum, ms)
	stat(h.count)
end

-- Per lead source, all time (src:all) and per day (src:DAY, days since
-- the epoch, kept DAILY_KEEP_DAYS): fields "SOURCE|received", "|mql",
-- "|assigned", "|followed_up", "|followed_up_in_sla", "|rejected", "|won",
-- "|lost", "|fu:INDEX" (follow-up time histogram, the bounds of
-- R.hist.followup). A source is a free-text field: at most
-- R.max_sources of them (the set K.SRC_NAMES) are counted by name, the
-- others as OTHER, so no input grows these hashes without bound.
local srcstats = {}
local src_keys = {}	-- source as given -> the name it is counted under
local function source_key(source)
	if not source or source == '' then	-- HMGET gives false when absent
		source = 'unknown'
	end
	local k = src_keys[source]
	if k then
		return k
	end
	k = string.sub(string.lower(source):gsub('[^%w%._%-]', '_'), 1,
	    SOURCE_KEY_MAX)
	local set = P .. K.SRC_NAMES
	if k ~= OTHER and redis.call('SISMEMBER', set, k) == 0 then
		if redis.call('SCARD', set) < R.max_sources then
			redis.call('SADD', set, k)
		else
			k = OTHER
		end
	end
	src_keys[source] = k
	return k
end

-- The word a closed lead's outcome is counted under (stats closed:WORD,
-- outcome:SEGMENT:WORD): won, lost, disqualified, and the first
-- OUTCOMES_FREE other words (the set K.OUTCOMES); the rest OTHER.
local function outcome_word(word)
	if OUTCOMES_KNOWN[word] or word == OTHER then
		return word
	end
	local set = P .. K.OUTCOMES
	if redis.call('SISMEMBER', set, word) == 1 then
		return word
	end
	if redis.call('SCARD', set) < OUTCOMES_FREE then
		redis.call('SADD', set, word)
		return word
	end
	return OTHER
end

local srcf = {}	-- counted name -> {what -> field}
local function src_stat(source, what)
	local f = joined(srcf, source_key(source), what, nil, '|')
	srcstats[f] = (srcstats[f] or 0) + 1
end

-- Outcomes of MQLs by segment and score, all time (calib:all) and per day
-- (calib:DAY, kept DAILY_KEEP_DAYS), for leadctl calibrate: fields
-- "SEGMENT|SCORE|what", what as calib.h says (a, r, ra, w, l).
local calstats = {}
local function cal_stat(seg, score, what)
	score = tonumber(score)
	if not seg or not score then
		return	-- HMGET gives false for an absent field
	end
	local f = seg .. '|' .. fmt(score) .. '|' .. what
	calstats[f] = (calstats[f] or 0) + 1
end

-- A rejection's reason, by segment, in calib:reasons: lowercased, blanks
-- folded, cut to REASON_MAX bytes on a UTF-8 boundary; at most REASONS_MAX
-- distinct ones, the rest counted as "(other)".
local function cal_reason(seg, reason)
	if not seg or not reason then
		return
	end
	local text = string.lower(reason):gsub('%s+', ' '):gsub('^ ', '')
	    :gsub(' $', '')
	if text == '' then
		return
	end
	if #text > REASON_MAX then
		local n = REASON_MAX
		while n > 0 and string.byte(text, n + 1) >= 0x80 and
		    string.byte(text, n + 1) < 0xC0 do
			n = n - 1
		end
		text = string.sub(text, 1, n)
	end
	local k, f = P .. K.CALIB_REASONS, seg .. '|' .. text
	if redis.call('HEXISTS', k, f) == 0 and
	    redis.call('HLEN', k) >= REASONS_MAX then
		f = seg .. '|(other)'
	end
	redis.call('HINCRBY', k, f, 1)
end

-- Add counters to the hash all and to the hash of today, head .. DAY (days
-- since the epoch, kept DAILY_KEEP_DAYS), the pair leadctl reads all time
-- or --since DAYS.
local function flush_daily(all, head, counters)
	if next(counters) then
		local akey = P .. all
		local day = P .. head .. fmt(math.floor(NOW / DAY_MS))
		for f, n in pairs(counters) do
			redis.call('HINCRBY', akey, f, n)
			redis.call('HINCRBY', day, f, n)
		end
		redis.call('EXPIRE', day, DAILY_KEEP_DAYS * DAY_S)
	end
end

local function flush_stats()
	for f, n in pairs(stats) do
		redis.call('HINCRBY', P .. K.STATS, f, n)
	end
	flush_daily(K.CALIB_ALL, K.CALIB_DAY, calstats)
	flush_daily(K.SRC_ALL, K.SRC_DAY, srcstats)
end

-- Push values onto a list in chunks (unpack has a C-stack limit).
local function push_all(cmd, key, values)
	local i = 1
	while i <= #values do
		local j = math.min(i + PUSH_CHUNK - 1, #values)
		redis.call(cmd, key, unpack(values, i, j))
		i = j + 1
	end
end

-- Deferred list pushes: key -> values, flushed in order at the end; a
-- list with a cap keeps its newest cap entries (LTRIM after the push).
local pushes, push_order, push_caps = {}, {}, {}
local function lpush_later(key, value, cap)
	if not pushes[key] then
		pushes[key] = {}
		push_order[#push_order + 1] = key
	end
	local l = pushes[key]
	l[#l + 1] = value
	push_caps[key] = cap
end

-- Dead letters dropped from the dead list by this call (intake.dead_max).
local dead_dropped = 0

local function flush_pushes()
	for _, key in ipairs(push_order) do
		push_all('LPUSH', key, pushes[key])
		local cap = push_caps[key]
		local over = cap and redis.call('LLEN', key) - cap or 0
		if over > 0 then
			redis.call('LTRIM', key, 0, cap - 1)
			if key == P .. K.DEAD then
				dead_dropped = dead_dropped + over
				stat('dead_dropped', over)
			end
		end
	end
end

-- The item being applied may have been applied in part by a call that
-- failed (commit_batch sets it): a write that is not idempotent looks
-- first whether it was made. ITEM_AT dates what the item writes: the time
-- of the first call that tried it, so that a redo writes the same bytes.
local maybe_redo = false
local ITEM_AT = NOW
local REDO_SCAN = 1000	-- newest entries a redo looks through

-- Push json onto list key later (kept to cap entries when given), unless
-- a redo finds it there.
local function push_once(key, json, cap)
	if maybe_redo and redis.call('LPOS', key, json, 'MAXLEN', REDO_SCAN) then
		return false
	end
	lpush_later(key, json, cap)
	return true
end

local function dead_letter(json, reason)
	if push_once(P .. K.DEAD, json, R.dead_max) then
		stat('dead:' .. reason)
	end
end

-- A dead letter built here, for reasons only Redis's state can tell.
-- raw is valid UTF-8 here (the daemon checked it), so it is a JSON string.
-- src is the queue the payload came from (K.INCOMING, K.EVENTS).
local function dead_letter_raw(reason, detail, src, raw)
	dead_letter('{"reason":' .. jstr(reason) .. ',"detail":' .. jstr(detail) ..
	    ',"at_ms":' .. fmt(ITEM_AT) .. ',"source":' .. jstr(src) ..
	    ',"raw":' .. jstr(raw) .. '}', reason)
end

-- A lead record (key lk) entering a final state (nurture, rejected,
-- closed) expires retention.days later (0: never). Records of open leads
-- never get a TTL, and no lead goes back from a final state to an open one.
local function expire_final(lk)
	if R.retention_s > 0 then
		redis.call('EXPIRE', lk, R.retention_s)
	end
end

-- A lead for marketing automation: below the MQL threshold, or rejected.
local function nurture(id, score, reason, seg, raw)
	local n = '{"lead_id":' .. q(id) ..
	    ',"score":' .. fmt(score) .. ',"reason":' .. q(reason) ..
	    ',"segment":' .. q(seg) .. ',"at_ms":' .. fmt(ITEM_AT) ..
	    ',"lead":' .. raw .. '}'
	if push_once(P .. K.NURTURE, n) then
		stat('nurture:' .. reason)
	end
	wh_nurtured(n)
end

-- An alert (JSON) to its subscribers, live, and to the durable log.
local function publish_alert(a)
	redis.call('PUBLISH', P .. K.ALERTS, a)
	redis.call('XADD', P .. K.ALERTS_LOG, 'MAXLEN', '~', R.alert_log_max,
	    '*', 'alert', a)
	wh_alert(a)
end

-- Before a write: the TYPE of each key a call touches, once per call. A
-- key another router or tool wrote (two prefixes that nest: "lr:" and
-- "lr:lead:") may hold another type, and Redis does not undo the writes a
-- failing script made: so a commit looks before it writes.
local ktypes = {}
local function key_type(k)
	local t = ktypes[k]
	if not t then
		t = redis.call('TYPE', k).ok
		ktypes[k] = t
	end
	return t
end

-- Why key k cannot be used as a want (a TYPE name), or nil.
local function conflict(k, want)
	local t = key_type(k)
	if t == 'none' or t == want then
		return nil
	end
	return 'key "' .. k .. '" is a ' .. t .. ', not a ' .. want
end

-- A lead record is a hash with a status, or absent.
local function record_conflict(lk)
	local c = conflict(lk, 'hash')
	if c or key_type(lk) == 'none' then
		return c
	end
	if redis.call('HEXISTS', lk, 'status') == 0 then
		return 'key "' .. lk .. '" is a hash, not a lead record'
	end
	return nil
end
