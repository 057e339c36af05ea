-- lr.lua - leadrouted's atomic operations on Redis, one script with one entry per operation.
--
-- Every state change of the router happens here, inside one script call,
-- so it is all-or-nothing and serialised with every other instance's:
-- claiming work into an instance's in-flight hash, committing scored leads
-- (record, assignment, backlog, nurture, dead letter, removal from
-- in-flight), applying events, draining backlogs, heartbeats and the
-- requeueing of a dead instance's in-flight work.
--
-- KEYS[1] is a key under the prefix, so that Redis Cluster routes the call
-- to the slot of the prefix's hash tag. ARGV[1] is the operation, ARGV[2]
-- the key prefix. Times come from Redis TIME: one clock for every instance.

if redis.replicate_commands then
	redis.replicate_commands()	-- effects replication before Redis 7
end

local OP, P = ARGV[1], ARGV[2]
local T = redis.call('TIME')
local NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)
-- Backlog order: highest score first, then oldest. The fraction encodes age.
local EPOCH_MS = 1577836800000	-- 2020-01-01
local AGE_SCALE = 4398046511104	-- 2^42 ms, about 139 years

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

-- prefix .. name, built once per call (stat fields by segment and rep).
local names = {}
local function name2(prefix, name)
	local t = names[prefix]
	if not t then
		t = {}
		names[prefix] = t
	end
	local v = t[name]
	if not v then
		v = prefix .. name
		t[name] = v
	end
	return v
end

-- A histogram observation: bounds (ms, ascending) come from the daemon.
local function observe(name, bounds, ms)
	local i = #bounds + 1
	for k, b in ipairs(bounds) do
		if ms <= b then
			i = k
			break
		end
	end
	stat(name2('h:' .. name .. ':', i))
	stat(name2('h:', name .. ':sum'), ms)
	stat(name2('h:', name .. ':count'))
end

-- Per lead source, all time (src:all) and per day (src:DAY, days since
-- the epoch, kept 400 days): fields "SOURCE|received", "|mql", "|assigned",
-- "|followed_up", "|followed_up_in_sla", "|rejected", "|won", "|lost",
-- "|fu:INDEX" (follow-up time histogram, the bounds of R.hist.followup).
local srcstats = {}
local function source_key(source)
	if not source or source == '' then	-- HMGET gives false when absent
		return 'unknown'
	end
	local k = string.lower(source):gsub('[^%w%._%-]', '_')
	return string.sub(k, 1, 64)
end

local function src_stat(source, what)
	local f = source_key(source) .. '|' .. what
	srcstats[f] = (srcstats[f] or 0) + 1
end

-- Outcomes of MQLs by segment and score, all time (calib:all) and per day
-- (calib:DAY, kept 400 days), for leadctl calibrate: fields
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
-- folded, cut to 128 bytes on a UTF-8 boundary; at most 1000 distinct
-- ones, the rest counted as "(other)".
local function cal_reason(seg, reason)
	if not seg or not reason then
		return
	end
	local text = string.lower(reason):gsub('%s+', ' '):gsub('^ ', '')
	    :gsub(' $', '')
	if text == '' then
		return
	end
	if #text > 128 then
		local n = 128
		while n > 0 and string.byte(text, n + 1) >= 0x80 and
		    string.byte(text, n + 1) < 0xC0 do
			n = n - 1
		end
		text = string.sub(text, 1, n)
	end
	local k, f = P .. 'calib:reasons', seg .. '|' .. text
	if redis.call('HEXISTS', k, f) == 0 and redis.call('HLEN', k) >= 1000 then
		f = seg .. '|(other)'
	end
	redis.call('HINCRBY', k, f, 1)
end

-- Add counters to NAME:all and to NAME:DAY (days since the epoch, kept 400
-- days), the pair leadctl reads all time or --since DAYS.
local function flush_daily(name, counters)
	if next(counters) then
		local all = P .. name .. ':all'
		local day = P .. name .. ':' .. fmt(math.floor(NOW / 86400000))
		for f, n in pairs(counters) do
			redis.call('HINCRBY', all, f, n)
			redis.call('HINCRBY', day, f, n)
		end
		redis.call('EXPIRE', day, 400 * 86400)
	end
end

local function flush_stats()
	for f, n in pairs(stats) do
		redis.call('HINCRBY', P .. 'stats', f, n)
	end
	flush_daily('calib', calstats)
	flush_daily('src', srcstats)
end

-- Push values onto a list in chunks (unpack has a C-stack limit).
local function push_all(cmd, key, values)
	local i = 1
	while i <= #values do
		local j = math.min(i + 999, #values)
		redis.call(cmd, key, unpack(values, i, j))
		i = j + 1
	end
end

-- Deferred list pushes: key -> values, flushed in order at the end.
local pushes, push_order = {}, {}
local function lpush_later(key, value)
	if not pushes[key] then
		pushes[key] = {}
		push_order[#push_order + 1] = key
	end
	local l = pushes[key]
	l[#l + 1] = value
end

local function flush_pushes()
	for _, key in ipairs(push_order) do
		push_all('LPUSH', key, pushes[key])
	end
end

local function dead_letter(json, reason)
	lpush_later(P .. 'dead', json)
	stat('dead:' .. reason)
end

-- A dead letter built here, for reasons only Redis's state can tell.
-- raw is valid UTF-8 here (the daemon checked it), so it is a JSON string.
local function dead_letter_raw(reason, detail, src, raw)
	dead_letter('{"reason":' .. jstr(reason) .. ',"detail":' .. jstr(detail) ..
	    ',"at_ms":' .. fmt(NOW) .. ',"source":' .. jstr(src) ..
	    ',"raw":' .. jstr(raw) .. '}', reason)
end

-- ---------------------------------------------------------------------
-- Reps and assignment

local R			-- the routing table of the calling instance's config
local repst = {}	-- rep id -> cached state for this call

local function rep_key(r, suffix)
	return P .. 'rep:' .. r .. suffix
end

local function rep_state(r)
	local s = repst[r]
	if s then
		return s
	end
	local h = redis.call('HMGET', rep_key(r, ''), 'status', 'last_assigned_ms')
	redis.call('ZREMRANGEBYSCORE', rep_key(r, ':window'), '-inf',
	    fmt(NOW - R.period))
	s = {
		status = h[1] or 'available',
		last = tonumber(h[2]) or -1,
		open = redis.call('SCARD', rep_key(r, ':open')),
		win = redis.call('ZCARD', rep_key(r, ':window')),
	}
	repst[r] = s
	return s
end

local function rep_can_take(r)
	local c = R.reps[r]
	if not c then
		return false	-- removed from the config: keeps leads, gets no new
	end
	local s = rep_state(r)
	return s.status ~= 'away' and s.open < c[1] and
	    (c[2] == 0 or s.win < c[2])
end

-- The eligible rep of seg with the fewest open leads; ties go to the
-- oldest last assignment (never assigned = oldest), then config order.
local function pick_rep(seg, exclude)
	local best, bs
	for _, r in ipairs(R.segs[seg] or {}) do
		if not (exclude and exclude[r]) and rep_can_take(r) then
			local s = repst[r]
			if not best or s.open < bs.open or
			    (s.open == bs.open and s.last < bs.last) then
				best, bs = r, s
			end
		end
	end
	return best
end

local dirty_reps, due_z, warn_z, window_z = {}, {}, {}, {}

-- Assign lead id to rep r. The record's fields go into rec (the caller
-- writes them with one HSET) when rec is given: a first assignment, which
-- also starts sla_breached at 0. Without rec (a reassignment) they are
-- written here and sla_breached keeps its 1. received: when the router
-- took the lead (ms), for its own latency SLO; nil for a reassignment.
local function assign(id, seg, score, raw, r, received, rec)
	local s = repst[r]
	local due = NOW + R.follow
	local a = '{"lead_id":' .. q(id) .. ',"rep":' .. q(r) ..
	    ',"segment":' .. q(seg) .. ',"score":' .. fmt(score) ..
	    ',"assigned_at_ms":' .. fmt(NOW) .. ',"follow_up_due_ms":' ..
	    fmt(due) .. ',"lead":' .. raw .. '}'

	redis.call('SADD', rep_key(r, ':open'), id)
	s.open, s.win, s.last = s.open + 1, s.win + 1, NOW
	if R.audit > 0 then
		-- The counts as this script saw them, for an auditor to replay.
		local c = R.reps[r]
		redis.call('XADD', P .. 'audit', 'MAXLEN', '~', R.audit, '*',
		    'op', 'assign', 'lead', id, 'rep', r, 'open', s.open,
		    'max_open', c[1], 'period', s.win, 'max_per_period', c[2])
	end
	if not dirty_reps[r] then
		dirty_reps[r] = true
		window_z[r] = {}
	end
	local w = window_z[r]
	w[#w + 1] = NOW
	w[#w + 1] = id
	if rec then
		local n = #rec
		rec[n + 1], rec[n + 2] = 'status', 'assigned'
		rec[n + 3], rec[n + 4] = 'rep', r
		rec[n + 5], rec[n + 6] = 'assigned_at_ms', NOW
		rec[n + 7], rec[n + 8] = 'follow_up_due_ms', due
		rec[n + 9], rec[n + 10] = 'sla_breached', 0
	else
		redis.call('HSET', P .. 'lead:' .. id, 'status', 'assigned',
		    'rep', r, 'assigned_at_ms', NOW, 'follow_up_due_ms', due)
	end
	lpush_later(rep_key(r, ':inbox'), a)
	redis.call('PUBLISH', P .. 'assignments', a)
	due_z[#due_z + 1] = due
	due_z[#due_z + 1] = id
	if R.warn > 0 then
		warn_z[#warn_z + 1] = due - R.warn
		warn_z[#warn_z + 1] = id
	end
	stat(name2('assigned:', seg))
	stat(name2('assigned_rep:', r))
	if received then
		observe('latency', R.hist.latency, NOW - received)
	end
end

local function backlog_score(score, received)
	return string.format('%.17g', -score + (received - EPOCH_MS) / AGE_SCALE)
end

local function flush_assignments()
	for r in pairs(dirty_reps) do
		redis.call('HSET', rep_key(r, ''), 'last_assigned_ms', repst[r].last)
		push_all('ZADD', rep_key(r, ':window'), window_z[r])
	end
	if #due_z > 0 then
		push_all('ZADD', P .. 'sla:due', due_z)
	end
	if #warn_z > 0 then
		push_all('ZADD', P .. 'sla:warn', warn_z)
	end
end

local function set_of(csv)
	local t = {}
	if csv then
		for r in string.gmatch(csv, '[^,]+') do
			t[r] = true
		end
	end
	return t
end

-- Assign waiting leads of seg while some rep can take them.
local function drain(seg)
	local key = P .. 'backlog:' .. seg
	local skip, moved = 0, 0
	while skip < 100 do
		local top = redis.call('ZRANGE', key, skip, skip)
		if #top == 0 then
			break
		end
		local id = top[1]
		local lk = P .. 'lead:' .. id
		local rec = redis.call('HMGET', lk, 'status', 'score', 'lead',
		    'breached_by', 'received_at_ms', 'source')
		if rec[1] ~= 'backlog' then
			redis.call('ZREM', key, id)	-- stale entry
		else
			local r = pick_rep(seg, set_of(rec[4]))
			if r then
				local fields = {}

				redis.call('ZREM', key, id)
				assign(id, seg, tonumber(rec[2]), rec[3], r,
				    tonumber(rec[5]), fields)
				redis.call('HSET', lk, unpack(fields))
				src_stat(rec[6], 'assigned')
				moved = moved + 1
			elseif rec[4] and pick_rep(seg, nil) then
				skip = skip + 1	-- only reps it may not go back to have room
			else
				break
			end
		end
	end
	return moved
end

local function drain_segments(list)
	local seen, moved = {}, 0
	for _, seg in ipairs(list) do
		if not seen[seg] then
			seen[seg] = true
			moved = moved + drain(seg)
		end
	end
	return moved
end

-- ---------------------------------------------------------------------
-- In-flight work of an instance

local SOURCES = {'incoming', 'events'}

local function inflight_key(inst, src)
	return P .. 'inflight:' .. inst .. ':' .. src
end

-- Put an instance's claimed and not committed work back at the consuming
-- end of its queue, in its original order. When the instance died, count
-- a redelivery against each payload, so that a poison pill is caught.
local function requeue(inst, count)
	local moved = 0
	for _, src in ipairs(SOURCES) do
		local h = inflight_key(inst, src)
		local w = h .. ':wait'
		-- Newest first: the wait list (taken last), then the hash by seq.
		local items = redis.call('LRANGE', w, 0, -1)
		local kv = redis.call('HGETALL', h)
		local arr = {}
		for i = 1, #kv, 2 do
			arr[#arr + 1] = {tonumber(kv[i]), kv[i + 1]}
		end
		table.sort(arr, function(a, b) return a[1] > b[1] end)
		for _, e in ipairs(arr) do
			items[#items + 1] = e[2]
		end
		if #items > 0 then
			if count then
				for _, v in ipairs(items) do
					redis.call('HINCRBY', P .. 'redeliveries',
					    redis.sha1hex(v), 1)
				end
			end
			push_all('RPUSH', P .. src, items)
			redis.call('DEL', h, w)
			moved = moved + #items
		end
	end
	return moved
end

-- ---------------------------------------------------------------------
-- Operations

local ops = {}

-- heartbeat INSTANCE TTL_MS [register]: renew this instance's lease and
-- requeue the work of instances whose lease ran out. "fenced" when this
-- instance was already presumed dead (it must re-register as a new one).
function ops.heartbeat()
	local inst, ttl, mode = ARGV[3], tonumber(ARGV[4]), ARGV[5]
	local ikey = P .. 'instances'
	if mode ~= 'register' and not redis.call('ZSCORE', ikey, inst) then
		return 'fenced'
	end
	redis.call('ZADD', ikey, NOW + ttl, inst)
	local reaped = P .. 'instances:reaped'
	local moved = 0
	for _, d in ipairs(redis.call('ZRANGEBYSCORE', ikey, '-inf',
	    '(' .. fmt(NOW), 'LIMIT', 0, 10)) do
		moved = moved + requeue(d, true)
		redis.call('ZREM', ikey, d)
		redis.call('ZADD', reaped, NOW, d)
		stat('instances_reaped')	-- presumed dead
	end
	-- Work a dead instance's last commands moved after it was reaped.
	redis.call('ZREMRANGEBYSCORE', reaped, '-inf', fmt(NOW - 600000))
	for _, d in ipairs(redis.call('ZRANGE', reaped, 0, 99)) do
		moved = moved + requeue(d, true)
	end
	if moved > 0 then
		stat('requeued', moved)
	end
	flush_stats()
	return 'ok'
end

-- release INSTANCE: a graceful stop gives back its unfinished work.
function ops.release()
	local inst = ARGV[3]
	local moved = requeue(inst, false)
	redis.call('ZREM', P .. 'instances', inst)
	return moved
end

-- claim INSTANCE SOURCE MAX SEQ: move up to MAX payloads from the queue
-- into the instance's in-flight hash under SEQ, SEQ+1... Returns the time
-- of the claim, then triples (payload, sha1 or "", redeliveries), oldest
-- first.
function ops.claim()
	local inst, src, n, seq = ARGV[3], ARGV[4], tonumber(ARGV[5]),
	    tonumber(ARGV[6])
	if not redis.call('ZSCORE', P .. 'instances', inst) then
		return redis.error_reply('FENCED instance ' .. inst ..
		    ' is not registered')
	end
	local h = inflight_key(inst, src)
	local w = h .. ':wait'
	local items = {}
	local wl = redis.call('LRANGE', w, 0, -1)
	for i = #wl, 1, -1 do
		items[#items + 1] = wl[i]
	end
	if #wl > 0 then
		redis.call('DEL', w)
	end
	if n > #items then
		local got = redis.call('RPOP', P .. src, n - #items)
		if got then
			for _, v in ipairs(got) do
				items[#items + 1] = v
			end
		end
	end
	if #items == 0 then
		return {NOW}
	end
	local hs = {}
	for i, v in ipairs(items) do
		hs[#hs + 1] = fmt(seq + i - 1)
		hs[#hs + 1] = v
	end
	push_all('HSET', h, hs)
	local out = {NOW}
	local check = redis.call('HLEN', P .. 'redeliveries') > 0
	for _, v in ipairs(items) do
		local sha, c = '', 0
		if check then
			local s = redis.sha1hex(v)
			c = tonumber(redis.call('HGET', P .. 'redeliveries', s)) or 0
			if c > 0 then
				sha = s
			end
		end
		out[#out + 1] = v
		out[#out + 1] = sha
		out[#out + 1] = c
	end
	return out
end

-- Which of the given seqs are still in the instance's in-flight hash?
-- Those that are not were taken back (the instance was presumed dead):
-- committing them would deliver them twice.
local function still_ours(h, seqs)
	if #seqs == 0 then
		return {}
	end
	return redis.call('HMGET', h, unpack(seqs))
end

local function finish(h, seqs, have)
	local done = {}
	for i, s in ipairs(seqs) do
		if have[i] then
			done[#done + 1] = s
		end
	end
	if #done > 0 then
		push_all('HDEL', h, done)
	end
end

-- Apply a batch of claimed items, F arguments each from ARGV[base] (seq
-- first, then the kind, ..., the redelivery sha last): refuse those no
-- longer in the instance's in-flight hash (fenced), dead-letter the "dead"
-- ones, hand the rest to apply(a) (a: the item's first argument), then
-- drop the batch from in-flight and write what was deferred. Returns one
-- result word per item.
local function commit_batch(src, base, F, apply)
	local h = inflight_key(ARGV[3], src)
	local n = (#ARGV - base + 1) / F
	local seqs, out = {}, {}
	for i = 0, n - 1 do
		seqs[#seqs + 1] = ARGV[base + i * F]
	end
	local have = still_ours(h, seqs)
	for i = 0, n - 1 do
		local a = base + i * F
		local res
		if not have[i + 1] then
			res = 'fenced'
			stat('fenced')
		elseif ARGV[a + 1] == 'dead' then
			dead_letter(ARGV[a + 3], ARGV[a + 2])
			if src == 'incoming' then
				stat('received')
			end
			res = 'dead'
		else
			res = apply(a)
		end
		if have[i + 1] and ARGV[a + F - 1] ~= '' then
			redis.call('HDEL', P .. 'redeliveries', ARGV[a + F - 1])
		end
		out[#out + 1] = res
	end
	finish(h, seqs, have)
	flush_assignments()
	flush_pushes()
	flush_stats()
	return out
end

-- commit INSTANCE ROUTING CLAIMED_AT then 10 fields per lead:
--   seq, "lead", id, score, segment, mql (1/0), source, raw, receipt, sha
--   seq, "dead", reason, dead-letter json, -, -, -, -, -, sha
-- Returns one word per lead: assigned:REP, backlog, nurture, duplicate,
-- dead, or fenced.
function ops.commit()
	R = cjson.decode(ARGV[4])
	local received = tonumber(ARGV[5])
	return commit_batch('incoming', 6, 10, function(a)
		local id, score, seg = ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4]
		local mql, source, raw = ARGV[a + 5] == '1', ARGV[a + 6], ARGV[a + 7]
		local lk = P .. 'lead:' .. id
		stat('received')
		if redis.call('HSETNX', lk, 'status', 'new') == 0 then
			dead_letter_raw('duplicate', 'lead id "' .. id ..
			    '" was already accepted', 'incoming', raw)
			stat('duplicate')
			return 'duplicate'
		end
		stat('valid')
		src_stat(source, 'received')
		local rec = {'score', score, 'segment', seg, 'received_at_ms',
		    received, 'mql', mql and 1 or 0, 'lead', raw, 'score_receipt',
		    ARGV[a + 8]}
		local res
		if source ~= '' then
			rec[#rec + 1] = 'source'
			rec[#rec + 1] = source
		end
		if not mql then
			rec[#rec + 1] = 'status'
			rec[#rec + 1] = 'nurture'
			rec[#rec + 1] = 'nurture_reason'
			rec[#rec + 1] = 'below_threshold'
			lpush_later(P .. 'nurture', '{"lead_id":' .. q(id) ..
			    ',"score":' .. fmt(score) ..
			    ',"reason":"below_threshold","segment":' .. q(seg) ..
			    ',"at_ms":' .. fmt(NOW) .. ',"lead":' .. raw .. '}')
			stat('nurture:below_threshold')
			res = 'nurture'
		else
			stat(name2('mql:', seg))
			src_stat(source, 'mql')
			local r = pick_rep(seg, nil)
			if r then
				assign(id, seg, score, raw, r, received, rec)
				src_stat(source, 'assigned')
				res = 'assigned:' .. r
			else
				rec[#rec + 1] = 'status'
				rec[#rec + 1] = 'backlog'
				redis.call('ZADD', P .. 'backlog:' .. seg,
				    backlog_score(score, received), id)
				stat('backlogged:' .. seg)
				res = 'backlog'
			end
		end
		redis.call('HSET', lk, unpack(rec))
		return res
	end)
end

-- A lead leaves its rep (closed or rejected): free the slot, stop timers.
local function release_lead(id, r)
	redis.call('SREM', rep_key(r, ':open'), id)
	if repst[r] then
		repst[r].open = repst[r].open - 1
	end
	redis.call('ZREM', P .. 'sla:due', id)
	redis.call('ZREM', P .. 'sla:warn', id)
	if R.audit > 0 then
		redis.call('XADD', P .. 'audit', 'MAXLEN', '~', R.audit, '*',
		    'op', 'release', 'lead', id, 'rep', r, 'open',
		    redis.call('SCARD', rep_key(r, ':open')))
	end
end

-- The segments to drain when rep r frees a slot.
local function rep_segments(r, also)
	local list = {}
	for _, seg in ipairs(R.seg_order) do
		for _, x in ipairs(R.segs[seg]) do
			if x == r then
				list[#list + 1] = seg
			end
		end
	end
	if also then
		list[#list + 1] = also
	end
	return list
end

local function apply_lead_event(typ, id, r, arg, raw)
	local lk = P .. 'lead:' .. id
	local rec = redis.call('HMGET', lk, 'status', 'rep', 'segment', 'score',
	    'lead', 'assigned_at_ms', 'follow_up_due_ms', 'source')
	local status, holder = rec[1], rec[2]
	if not status then
		dead_letter_raw('unknown_lead', 'no lead "' .. id .. '" was accepted',
		    'events', raw)
		return 'unknown_lead'
	end
	if holder ~= r or (status ~= 'assigned' and status ~= 'followed_up') then
		if not R.reps[r] and holder ~= r then
			dead_letter_raw('unknown_rep', 'rep "' .. r ..
			    '" is not in the configuration', 'events', raw)
			return 'unknown_rep'
		end
		local why
		if holder and holder ~= r then
			why = 'lead "' .. id .. '" is held by another rep'
		elseif holder then
			why = 'lead "' .. id .. '" is ' .. status .. ', no longer held by "' .. r .. '"'
		else
			why = 'lead "' .. id .. '" is ' .. status .. ' and held by no rep'
		end
		dead_letter_raw('not_assignee', why, 'events', raw)
		return 'not_assignee'
	end
	if typ == 'followed_up' then
		if status == 'assigned' then
			redis.call('HSET', lk, 'status', 'followed_up',
			    'followed_up_at_ms', NOW)
			redis.call('ZREM', P .. 'sla:due', id)
			redis.call('ZREM', P .. 'sla:warn', id)
			local took = NOW - (tonumber(rec[6]) or NOW)
			observe('followup', R.hist.followup, took)
			stat(name2('followed_up:', rec[3]))
			src_stat(rec[8], 'followed_up')
			if NOW <= (tonumber(rec[7]) or 0) then
				src_stat(rec[8], 'followed_up_in_sla')
			end
			local b = #R.hist.followup + 1
			for k, bound in ipairs(R.hist.followup) do
				if took <= bound then
					b = k
					break
				end
			end
			src_stat(rec[8], 'fu:' .. b)
			cal_stat(rec[3], rec[4], 'a')
		end
		return 'ok'
	end
	release_lead(id, r)
	if typ == 'rejected' or arg == 'disqualified' then
		cal_stat(rec[3], rec[4], 'r')
		if status == 'followed_up' then
			cal_stat(rec[3], rec[4], 'ra')
		end
	elseif status == 'assigned' then
		cal_stat(rec[3], rec[4], 'a')	-- closed without a follow-up
	end
	if typ == 'rejected' then
		cal_reason(rec[3], arg)
		redis.call('HSET', lk, 'status', 'rejected', 'rejected_at_ms', NOW,
		    'reject_reason', arg)
		lpush_later(P .. 'nurture', '{"lead_id":' .. q(id) ..
		    ',"score":' .. fmt(tonumber(rec[4])) ..
		    ',"reason":"rejected_by_rep","segment":' .. q(rec[3]) ..
		    ',"at_ms":' .. fmt(NOW) .. ',"lead":' .. rec[5] .. '}')
		stat('nurture:rejected_by_rep')
		stat(name2('rejected:', rec[3]))
		src_stat(rec[8], 'rejected')
	else
		redis.call('HSET', lk, 'status', 'closed', 'closed_at_ms', NOW,
		    'outcome', arg)
		stat('closed:' .. arg)
		stat('outcome:' .. rec[3] .. ':' .. arg)	-- by segment, for plans
		if arg == 'won' or arg == 'lost' then
			src_stat(rec[8], arg)
			cal_stat(rec[3], rec[4], arg == 'won' and 'w' or 'l')
		end
	end
	drain_segments(rep_segments(r, rec[3]))
	return 'ok'
end

-- events INSTANCE ROUTING then 8 fields per event:
--   seq, "ev", type, lead_id, rep, reason|outcome|status, raw, sha
--   seq, "dead", reason, dead-letter json, -, -, -, sha
function ops.events()
	R = cjson.decode(ARGV[4])
	return commit_batch('events', 5, 8, function(a)
		local typ, id, r, arg, raw = ARGV[a + 2], ARGV[a + 3],
		    ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
		local res
		if typ ~= 'rep_status' then
			res = apply_lead_event(typ, id, r, arg, raw)
		elseif not R.reps[r] then
			dead_letter_raw('unknown_rep', 'rep "' .. r ..
			    '" is not in the configuration', 'events', raw)
			res = 'unknown_rep'
		else
			redis.call('HSET', rep_key(r, ''), 'status', arg)
			if repst[r] then
				repst[r].status = arg
			end
			if arg == 'available' then
				drain_segments(rep_segments(r, nil))
			end
			res = 'ok'
		end
		stat('event:' .. typ .. ':' .. res)
		return res
	end)
end

-- drain ROUTING: assign whatever the backlogs hold and reps can take
-- (after a reload, and periodically as rolling windows free capacity).
function ops.drain()
	R = cjson.decode(ARGV[3])
	local moved = 0
	for _, seg in ipairs(R.seg_order) do
		if redis.call('ZCARD', P .. 'backlog:' .. seg) > 0 then
			moved = moved + drain(seg)
		end
	end
	flush_assignments()
	flush_pushes()
	flush_stats()
	return moved
end

-- ---------------------------------------------------------------------
-- The follow-up SLA

local fired_log = {}	-- type, lead, rep, segment of each alert, for logs

local function alert(typ, id, r, seg, assigned, due)
	local a = '{"type":' .. q(typ) .. ',"lead_id":' .. q(id) ..
	    ',"rep":' .. q(r) .. ',"segment":' .. q(seg) ..
	    ',"assigned_at_ms":' .. fmt(assigned) .. ',"follow_up_due_ms":' ..
	    fmt(due) .. ',"at_ms":' .. fmt(NOW) .. '}'
	redis.call('PUBLISH', P .. 'alerts', a)
	redis.call('XADD', P .. 'alerts:log', 'MAXLEN', '~', R.alert_log_max,
	    '*', 'alert', a)
	stat('alert:' .. typ .. ':' .. seg .. ':' .. r)
	fired_log[#fired_log + 1] = typ .. ' lead=' .. id .. ' rep=' .. r ..
	    ' segment=' .. seg
end

-- Escalate once per assignment chain: ops must step in.
local function escalate(lk, id, r, seg, assigned, due)
	if redis.call('HSETNX', lk, 'escalated', 1) == 1 then
		alert('sla_escalation', id, r, seg, assigned, due)
	end
end

-- A breach: flag the lead, alert, and in reassign mode move it on.
local function breach(id)
	local lk = P .. 'lead:' .. id
	local rec = redis.call('HMGET', lk, 'status', 'rep', 'segment',
	    'assigned_at_ms', 'follow_up_due_ms', 'breached_by', 'reassign_count',
	    'score', 'lead')
	if rec[1] ~= 'assigned' then
		return false	-- acted on (followed up, rejected, closed) in time
	end
	local r, seg, assigned, due = rec[2], rec[3], tonumber(rec[4]),
	    tonumber(rec[5])
	redis.call('HSET', lk, 'sla_breached', 1)
	alert('sla_breach', id, r, seg, assigned, due)
	if not R.reassign then
		return true
	end
	local by = rec[6] and (rec[6] .. ',' .. r) or r
	local hops = tonumber(rec[7]) or 0
	redis.call('HSET', lk, 'breached_by', by)
	if hops >= R.max_reassign then
		escalate(lk, id, r, seg, assigned, due)
		return true
	end
	local to = pick_rep(seg, set_of(by))
	if not to then
		escalate(lk, id, r, seg, assigned, due)
		return true
	end
	release_lead(id, r)
	redis.call('HSET', lk, 'reassign_count', hops + 1)
	assign(id, seg, tonumber(rec[8]), rec[9], to, nil)
	stat('reassigned:' .. seg)
	drain_segments(rep_segments(r, nil))
	return true
end

-- sla ROUTING LIMIT: fire the warnings and breaches that are due, at most
-- LIMIT of each, once each whatever the number of instances. Returns
-- {fired, next due time or -1, now, more (1 when LIMIT was reached),
-- the first 20 alerts as "type lead=.. rep=.. segment=.." for the log}.
function ops.sla()
	R = cjson.decode(ARGV[3])
	local limit = tonumber(ARGV[4])
	local fired, more = 0, 0
	local dkey, wkey = P .. 'sla:due', P .. 'sla:warn'

	local due = redis.call('ZRANGEBYSCORE', dkey, '-inf', NOW, 'LIMIT', 0, limit)
	for _, id in ipairs(due) do
		redis.call('ZREM', dkey, id)
		redis.call('ZREM', wkey, id)	-- an overdue warning is skipped
		if breach(id) then
			fired = fired + 1
		end
	end
	local warn = redis.call('ZRANGEBYSCORE', wkey, '-inf', NOW, 'LIMIT', 0, limit)
	for _, id in ipairs(warn) do
		redis.call('ZREM', wkey, id)
		local rec = redis.call('HMGET', P .. 'lead:' .. id, 'status', 'rep',
		    'segment', 'assigned_at_ms', 'follow_up_due_ms')
		if rec[1] == 'assigned' and tonumber(rec[5]) > NOW then
			alert('sla_warning', id, rec[2], rec[3], tonumber(rec[4]),
			    tonumber(rec[5]))
			fired = fired + 1
		end
	end
	if #due == limit or #warn == limit then
		more = 1
	end
	local nd = redis.call('ZRANGE', dkey, 0, 0, 'WITHSCORES')
	local nw = redis.call('ZRANGE', wkey, 0, 0, 'WITHSCORES')
	local nxt = -1
	if #nd > 0 then
		nxt = tonumber(nd[2])
	end
	if #nw > 0 and (nxt == -1 or tonumber(nw[2]) < nxt) then
		nxt = tonumber(nw[2])
	end
	flush_assignments()
	flush_pushes()
	flush_stats()
	local shown = {}
	for i = 1, math.min(#fired_log, 20) do
		shown[i] = fired_log[i]
	end
	return {fired, nxt, NOW, more, shown}
end

-- ---------------------------------------------------------------------
-- The capacity forecast

-- A rep's room for new leads: what is left under both limits, 0 when away.
local function rep_room(r)
	local c = R.reps[r]
	local s = rep_state(r)
	if not c or s.status == 'away' then
		return 0
	end
	local room = c[1] - s.open
	if c[2] > 0 and c[2] - s.win < room then
		room = c[2] - s.win
	end
	return math.max(room, 0)
end

local function fnum(x)
	return string.format('%.6g', x)
end

-- forecast ROUTING HORIZON_MS HALF_LIFE_MS: per segment, update the MQL
-- arrival rate (an exponentially weighted moving average of the mql:SEG
-- counter whose weights halve every HALF_LIFE_MS), weigh it against the
-- room the segment's available reps have left (a rep of several segments
-- shares its room among them in proportion to their rates), less the
-- segment's backlog, and fire one capacity_forecast alert per episode when
-- that room runs out within HORIZON_MS (0: no alerts) and at least one MQL
-- is expected within it (a segment without room but without arrivals keeps
-- no lead waiting). An episode ends when the time to exhaustion is back
-- above 1.25 x HORIZON_MS, or fewer than half an MQL is expected within it:
-- the margins keep a segment at the edge from alerting again and again.
-- State, in the hash forecast: SEG|n, SEG|t (the counter and time of the
-- last update), SEG|rate (MQLs/s), SEG|room, SEG|backlog, SEG|eta (seconds
-- until the room is used up, -1 for never), SEG|at (time of the forecast),
-- SEG|episode (at_ms of the episode's alert, while it lasts), SEG|ended
-- (episodes ended so far: a segment never has more alerts than that + 1).
-- Returns the alerts fired, as "capacity_forecast segment=.. ..." lines.
function ops.forecast()
	R = cjson.decode(ARGV[3])
	local horizon, hl = tonumber(ARGV[4]) / 1000, tonumber(ARGV[5]) / 1000
	local fk = P .. 'forecast'
	local rate, share, room, fired, fields = {}, {}, {}, {}, {}

	for i, seg in ipairs(R.seg_order) do
		fields[i] = 'mql:' .. seg
	end
	if #fields == 0 then
		return fired
	end
	local counts = redis.call('HMGET', P .. 'stats', unpack(fields))

	for i, seg in ipairs(R.seg_order) do
		local h = redis.call('HMGET', fk, seg .. '|n', seg .. '|t',
		    seg .. '|rate')
		local count = tonumber(counts[i]) or 0
		local n, t, r = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]) or 0
		if not n or not t or count < n or t > NOW then
			-- First look, or the counters were reset: count from now.
			redis.call('HSET', fk, seg .. '|n', count, seg .. '|t', NOW,
			    seg .. '|rate', string.format('%.17g', r))
		elseif NOW - t >= 1000 then
			local dt = (NOW - t) / 1000
			local alpha = 1 - math.exp(-dt * math.log(2) / hl)
			r = r + alpha * ((count - n) / dt - r)
			redis.call('HSET', fk, seg .. '|n', count, seg .. '|t', NOW,
			    seg .. '|rate', string.format('%.17g', r))
		end
		rate[seg], share[seg], room[seg] = r, 0, 0
	end
	for _, r in ipairs(R.rep_order) do
		local segs = rep_segments(r, nil)
		local free = #segs > 0 and rep_room(r) or 0
		if free > 0 then
			local total = 0
			for _, seg in ipairs(segs) do
				total = total + rate[seg]
			end
			for _, seg in ipairs(segs) do
				room[seg] = room[seg] + free
				if total > 0 then
					share[seg] = share[seg] + free * rate[seg] / total
				else
					share[seg] = share[seg] + free / #segs
				end
			end
		end
	end
	for _, seg in ipairs(R.seg_order) do
		local backlog = redis.call('ZCARD', P .. 'backlog:' .. seg)
		local left, r = math.max(share[seg] - backlog, 0), rate[seg]
		local eta, expected = -1, r * horizon	-- MQLs within the horizon
		if left < 1e-9 then
			eta = 0
		elseif r > 0 then
			eta = left / r
		end
		redis.call('HSET', fk, seg .. '|room', room[seg], seg .. '|backlog',
		    backlog, seg .. '|eta', fnum(eta), seg .. '|at', NOW)
		local open = redis.call('HGET', fk, seg .. '|episode')
		if horizon > 0 and expected >= 1 and eta >= 0 and eta < horizon then
			if not open then
				redis.call('HSET', fk, seg .. '|episode', NOW)
				local a = '{"type":"capacity_forecast","segment":' ..
				    q(seg) .. ',"room":' .. fmt(room[seg]) ..
				    ',"backlog":' .. fmt(backlog) ..
				    ',"mql_per_hour":' .. fnum(r * 3600) ..
				    ',"exhausted_in_s":' .. fmt(math.floor(eta)) ..
				    ',"horizon_s":' .. fmt(horizon) ..
				    ',"at_ms":' .. fmt(NOW) .. '}'
				redis.call('PUBLISH', P .. 'alerts', a)
				redis.call('XADD', P .. 'alerts:log', 'MAXLEN', '~',
				    R.alert_log_max, '*', 'alert', a)
				stat(name2('forecast_alert:', seg))
				fired[#fired + 1] = 'capacity_forecast segment=' .. seg ..
				    ' room=' .. fmt(room[seg]) .. ' backlog=' ..
				    fmt(backlog) .. ' mql_per_hour=' .. fnum(r * 3600) ..
				    ' exhausted_in_s=' .. fmt(math.floor(eta))
			end
		elseif open and (horizon == 0 or expected < 0.5 or eta < 0 or
		    eta > horizon * 1.25) then
			redis.call('HDEL', fk, seg .. '|episode')
			redis.call('HINCRBY', fk, seg .. '|ended', 1)
		end
	end
	flush_stats()
	return fired
end

-- metrics ROUTING: what /metrics reports from shared state, in one read:
-- {stats as field/value pairs, backlog size per segment (seg_order),
--  per rep (rep_order) open, assignments in the period, available 1/0,
--  incoming, events, dead, pending SLA timers, live instances,
--  per-source counters as field/value pairs, the forecast hash as
--  field/value pairs}.
function ops.metrics()
	R = cjson.decode(ARGV[3])
	local backlog, reps = {}, {}
	for _, seg in ipairs(R.seg_order) do
		backlog[#backlog + 1] = redis.call('ZCARD', P .. 'backlog:' .. seg)
	end
	for _, r in ipairs(R.rep_order) do
		reps[#reps + 1] = redis.call('SCARD', rep_key(r, ':open'))
		reps[#reps + 1] = redis.call('ZCOUNT', rep_key(r, ':window'),
		    '(' .. fmt(NOW - R.period), '+inf')
		reps[#reps + 1] = redis.call('HGET', rep_key(r, ''), 'status') ==
		    'away' and 0 or 1
	end
	return {redis.call('HGETALL', P .. 'stats'), backlog, reps,
	    redis.call('LLEN', P .. 'incoming'), redis.call('LLEN', P .. 'events'),
	    redis.call('LLEN', P .. 'dead'), redis.call('ZCARD', P .. 'sla:due'),
	    redis.call('ZCARD', P .. 'instances'),
	    redis.call('HGETALL', P .. 'src:all'),
	    redis.call('HGETALL', P .. 'forecast')}
end

local f = ops[OP]
if not f then
	return redis.error_reply('ERR leadrouted: unknown operation ' .. tostring(OP))
end
return f()
