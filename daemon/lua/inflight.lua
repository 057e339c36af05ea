-- inflight.lua - an instance's in-flight work: leases (heartbeat, release, requeue), and commits of claimed items (the commit of leads); claim.lua claims them.

local REAP_MAX = 10		-- instances reaped by one heartbeat
local REAPED_KEEP_MS = 600000	-- a reaped instance is watched this long
local REAPED_REQUEUE_MAX = 100	-- reaped instances requeued per heartbeat
local ORPHAN_SCAN_COUNT = 100	-- keys a heartbeat scans while a pass runs
local ORPHAN_SCAN_MS = 60000	-- a pass over the in-flight keys this often

local SOURCES = {K.INCOMING, K.EVENTS}

-- Put an instance's claimed and not committed work back at the consuming
-- end of its queue, in its original order. When the instance died
-- (count), count a redelivery against each payload, so that a poison
-- pill is caught; else against the payload of seq blame only, if any.
local function requeue(inst, count, blame)
	local moved = 0
	blame = tonumber(blame)
	for _, src in ipairs(SOURCES) do
		local h, w = inflight_keys(inst, src)
		-- Newest first: the wait list (taken last), then the hash by seq.
		local items = redis.call('LRANGE', w, 0, -1)
		local kv = redis.call('HGETALL', h)
		local arr, counted = {}, count and items or {}
		for i = 1, #kv, 2 do
			local seq = tonumber(kv[i])	-- not the TRIES field
			if seq then
				arr[#arr + 1] = {seq, kv[i + 1]}
			end
		end
		table.sort(arr, function(a, b) return a[1] > b[1] end)
		for _, e in ipairs(arr) do
			items[#items + 1] = e[2]
			if not count and e[1] == blame then
				counted[#counted + 1] = e[2]
			end
		end
		if #items > 0 then
			for _, v in ipairs(counted) do
				redis.call('HINCRBY', P .. K.REDELIVERIES,
				    redis.sha1hex(v), 1)
			end
			push_all('RPUSH', P .. src, items)
			redis.call('DEL', h, w)
			moved = moved + #items
		end
	end
	return moved
end

-- s as a SCAN MATCH pattern that matches s itself.
local function glob_escape(s)
	return (s:gsub('[%*%?%[%]\\]', '\\%0'))
end

-- The instance an in-flight hash or wait list belongs to, or nil.
local function inflight_owner(key)
	local head, wt = P .. K.INFLIGHT, KT.INFLIGHT_WAIT
	if key:sub(1, #head) ~= head then
		return nil
	end
	local part = key:sub(#head + 1)
	if #part > #wt and part:sub(-#wt) == wt then
		part = part:sub(1, #part - #wt)
	end
	for _, src in ipairs(SOURCES) do
		local tail = KEY_SEP .. src
		if #part > #tail and part:sub(-#tail) == tail then
			return part:sub(1, #part - #tail)
		end
	end
	return nil
end

-- The rare scan: work of an instance neither live nor watched as reaped
-- (reaped longer ago than REAPED_KEEP_MS, or more instances reaped than a
-- heartbeat requeues) would be stranded. Each heartbeat scans at most
-- ORPHAN_SCAN_COUNT keys from a cursor kept in Redis, so the fleet's
-- heartbeats share a pass; a pass starts every ORPHAN_SCAN_MS.
local function requeue_orphans(ikey, reaped)
	local sk = P .. K.INFLIGHT_SCAN
	local st = redis.call('HMGET', sk, 'cursor', 'next_ms')
	local cursor = st[1] or '0'
	if cursor == '0' and NOW < (tonumber(st[2]) or 0) then
		return 0
	end
	local r = redis.call('SCAN', cursor, 'MATCH',
	    glob_escape(P .. K.INFLIGHT) .. '*', 'COUNT', ORPHAN_SCAN_COUNT)
	local moved, seen = 0, {}
	for _, key in ipairs(r[2]) do
		local inst = inflight_owner(key)
		if inst and not seen[inst] then
			seen[inst] = true
			if not redis.call('ZSCORE', ikey, inst) and
			    not redis.call('ZSCORE', reaped, inst) then
				moved = moved + requeue(inst, true)
			end
		end
	end
	redis.call('HSET', sk, 'cursor', r[1], 'next_ms',
	    r[1] == '0' and NOW + ORPHAN_SCAN_MS or NOW)
	return moved
end

-- heartbeat INSTANCE TTL_MS MODE: renew this instance's lease and requeue
-- the work of instances whose lease ran out. RES.FENCED when this instance
-- was already presumed dead (it must re-register as a new one).
ops[OP.HEARTBEAT] = function()
	local inst, ttl, mode = op_arg(HEARTBEAT.INSTANCE),
	    tonumber(op_arg(HEARTBEAT.TTL_MS)), op_arg(HEARTBEAT.MODE)
	local ikey = P .. K.INSTANCES
	if mode ~= MODE.REGISTER and not redis.call('ZSCORE', ikey, inst) then
		return RES.FENCED
	end
	redis.call('ZADD', ikey, NOW + ttl, inst)
	local reaped = P .. K.INSTANCES_REAPED
	local moved = 0
	for _, d in ipairs(redis.call('ZRANGEBYSCORE', ikey, '-inf',
	    '(' .. fmt(NOW), 'LIMIT', 0, REAP_MAX)) do
		moved = moved + requeue(d, true)
		redis.call('ZREM', ikey, d)
		redis.call('ZADD', reaped, NOW, d)
		stat('instances_reaped')	-- presumed dead
	end
	-- Work a dead instance's last commands moved after it was reaped.
	redis.call('ZREMRANGEBYSCORE', reaped, '-inf', fmt(NOW - REAPED_KEEP_MS))
	for _, d in ipairs(redis.call('ZRANGE', reaped, 0,
	    REAPED_REQUEUE_MAX - 1)) do
		moved = moved + requeue(d, true)
	end
	moved = moved + requeue_orphans(ikey, reaped)
	if moved > 0 then
		stat('requeued', moved)
	end
	flush_stats()
	return RES.OK
end

-- release INSTANCE BLAME: give back the instance's unfinished work, in
-- order at the front of its queue, and leave the fleet: at a graceful
-- stop, or at once when the instance's own call failed or was refused for
-- good (BLAME: the seq of the payload whose call failed alone, which
-- counts a redelivery as after a crash; "" for none).
ops[OP.RELEASE] = function()
	local inst = op_arg(RELEASE.INSTANCE)
	local moved = requeue(inst, false, op_arg(RELEASE.BLAME))
	redis.call('ZREM', P .. K.INSTANCES, inst)
	return moved
end

-- A field of the in-flight hash beside the items' seqs, TRIES: the calls
-- that began to apply items, "FIRST-LAST@MS;...", the range of each
-- call's seqs (a commit's items are one claim's, whose seqs no other claim
-- shares, and an instance never reuses a seq) and its time. A call adds
-- its range first, before any other write: the call that finds an item's
-- seq in a range may redo writes a failed one made, dated as that one
-- dated them. One field per call, not one per item: a commit path's every
-- write counts. A range outlives its call while others are in TRIES (it
-- covers only seqs that are gone), and ranges older than TRIES_KEEP_MS
-- are dropped when a range is added: a failed call is finished at once.
local TRIES, TRIES_KEEP_MS = 'tries', 3600 * 1000

-- TRIES's text as a list of {first, last, ms}.
local function tries_parse(t)
	local l = {}
	for f, e, ms in string.gmatch(t or '', '(%d+)%-(%d+)@(%d+)') do
		l[#l + 1] = {tonumber(f), tonumber(e), ms}
	end
	return l
end

-- When a call that began to apply seq did so: its time (ms, as text), or
-- nil.
local function tried_at(ranges, seq)
	for _, r in ipairs(ranges) do
		if seq >= r[1] and seq <= r[2] then
			return r[3]
		end
	end
	return nil
end

-- TRIES with range mine added and the ranges past TRIES_KEEP_MS dropped.
local function tries_add(ranges, mine)
	local l = {}
	for _, r in ipairs(ranges) do
		if tonumber(r[3]) >= NOW - TRIES_KEEP_MS then
			l[#l + 1] = fmt(r[1]) .. '-' .. fmt(r[2]) .. '@' .. r[3]
		end
	end
	l[#l + 1] = mine
	return table.concat(l, ';')
end

-- Which of the given seqs are still in the instance's in-flight hash
-- (those that are not were taken back, the instance presumed dead:
-- committing them would deliver them twice), TRIES's text ('' when
-- none), and whether seq after is still there too, in one HMGET.
local function still_ours(h, after, seqs)
	local have = redis.call('HMGET', h, TRIES, after, unpack(seqs))
	local told = table.remove(have, 1) or ''
	local behind = table.remove(have, 1)
	return have, told, behind
end

-- The batch leaves in-flight, in one write, the call's last: its items,
-- and TRIES when it held only this call's range (alone: the ranges of
-- other calls stay; a hash left with nothing else goes whole).
local function finish(h, seqs, have, alone)
	local done = {}
	for i, s in ipairs(seqs) do
		if have[i] then
			done[#done + 1] = s
		end
	end
	if #done == 0 then
		return
	end
	if alone then
		done[#done + 1] = TRIES
		push_all('HDEL', h, done)
	elseif redis.call('HLEN', h) == #done + 1 then
		redis.call('DEL', h)
	else
		push_all('HDEL', h, done)
	end
end

-- The instance and seq of the item being applied: "INSTANCE:SEQ", kept in
-- the record (claim) so that a commit that failed halfway is finished, not
-- refused as a duplicate, when the same claim sends the item again.
local cur_inst = ''

-- The keys every item of a commit or events call may write, key and TYPE
-- name pairs: one of another type refuses the whole call before it
-- writes anything.
local function shared_keys(h)
	local day = fmt(math.floor(NOW / DAY_MS))
	return keys_conflict({h, 'hash', P .. K.STATS, 'hash', P .. K.DEAD,
	    'list', P .. K.NURTURE, 'list', P .. K.SLA_DUE, 'zset',
	    P .. K.SLA_WARN, 'zset', P .. K.SRC_ALL, 'hash',
	    P .. K.SRC_DAY .. day, 'hash', P .. K.CALIB_ALL, 'hash',
	    P .. K.CALIB_DAY .. day, 'hash', P .. K.CALIB_REASONS, 'hash',
	    P .. K.REDELIVERIES, 'hash', P .. K.SRC_NAMES, 'set',
	    P .. K.OUTCOMES, 'set'})
end

-- Rep r's keys, a segment's (its backlog, its reps'), a list of
-- segments': nil, or why one cannot be used.
local segconf = {}	-- segment -> why, or false; once per call
local function seg_conflict(seg)
	local c = segconf[seg]
	if c == nil then
		c = conflict(P .. K.BACKLOG .. seg, 'zset')
		for _, r in ipairs(R.segs[seg] or {}) do
			c = c or rep_keys_conflict(r)
		end
		segconf[seg] = c or false
	end
	return c or nil
end

local function segs_conflict(list)
	local c
	for _, seg in ipairs(list) do
		c = c or seg_conflict(seg)
	end
	return c
end

-- An item the script cannot apply: its own dead letter, nothing else.
local function refuse(res, detail, src, raw)
	dead_letter_raw(res, detail, src, raw)
	return res
end

-- Apply the claimed items of instance inst from src (K.INCOMING,
-- K.EVENTS), unless the payload of seq after (COMMIT.AFTER) is still in
-- flight: an earlier call of the consumer failed or was refused and goes
-- again, and this one must not overtake it (a duplicate id would win over
-- the lead pushed first, an event apply before the one pushed ahead of
-- it); such a call is refused with ERR.BEHIND before any write. The items
-- are F arguments each from ARGV[base] (LEAD or EVENT; a dead one
-- laid out as DEAD, its redelivery sha at sha as well; kind the KIND word
-- of a live one, its payload at rawi): refuse those no
-- longer in the instance's in-flight hash (fenced), dead-letter the dead
-- ones and those of an unknown kind, hand the rest to apply(a, payload)
-- (a: the ARGV index of the item's first argument; payload: its in-flight
-- copy, which stands in for an empty raw argument), then drop the batch from
-- in-flight and write what was deferred. Returns one result word per
-- item, then the number of dead letters dropped from the full dead list
-- when there were some. A call whose items do not add up, or one of whose
-- shared keys holds another type, is refused with an error before any
-- write.
local function commit_batch(src, inst, after, base, F, sha, apply, kind,
    rawi)
	local h = inflight_keys(inst, src)
	local n = (#ARGV - base + 1) / F
	if n ~= math.floor(n) then
		return redis.error_reply('ERR leadrouted: ' .. fmt(#ARGV - base + 1) ..
		    ' item arguments are no whole number of ' .. fmt(F))
	end
	local c = shared_keys(h)
	if c then
		return redis.error_reply('ERR leadrouted: ' .. c)
	end
	cur_inst = inst
	local seqs, out, redone = {}, {}, {}
	for i = 0, n - 1 do
		seqs[#seqs + 1] = ARGV[base + i * F + DEAD.SEQ]
	end
	local have, told, behind = still_ours(h, after, seqs)
	if behind then
		return redis.error_reply(ERR.BEHIND .. ' payload ' .. after ..
		    ' of ' .. inst .. ' is still in flight')
	end
	-- This call's range, added before any write unless ranges of failed
	-- calls already cover every item it applies.
	local ranges, tried, lo, hi = tries_parse(told), {}, nil, nil
	local uncovered = false
	for i, s in ipairs(seqs) do
		if have[i] then
			local q = tonumber(s)
			tried[i] = tried_at(ranges, q)
			uncovered = uncovered or not tried[i]
			lo = (lo and lo < q) and lo or q
			hi = (hi and hi > q) and hi or q
		end
	end
	if uncovered then
		local mine = fmt(lo) .. '-' .. fmt(hi) .. '@' .. fmt(NOW)
		redis.call('HSET', h, TRIES, told == '' and mine or
		    tries_add(ranges, mine))
	end
	for i = 0, n - 1 do
		local a = base + i * F
		local k = ARGV[a + DEAD.KIND]
		local res
		maybe_redo, ITEM_AT = false, NOW
		if have[i + 1] then
			maybe_redo = tried[i + 1] ~= nil or ARGV[a + sha] ~= ''
			ITEM_AT = tonumber(tried[i + 1]) or NOW
		end
		if not have[i + 1] then
			res = RES.FENCED
			stat('fenced')
		elseif k == KIND.DEAD or k == KIND.DEAD_RAW then
			local json = ARGV[a + DEAD.JSON]
			if k == KIND.DEAD_RAW then
				json = json .. ',"raw":' .. jstr(have[i + 1]) .. '}'
			end
			dead_letter(json, ARGV[a + DEAD.REASON])
			if src == K.INCOMING then
				stat('received')
			end
			res = RES.DEAD
		elseif k ~= kind then
			local raw = ARGV[a + rawi]
			res = refuse(RES.BAD_ITEM, 'item of unknown kind ' .. jstr(k),
			    src, raw ~= '' and raw or have[i + 1])
		else
			res = apply(a, have[i + 1])
		end
		if have[i + 1] and ARGV[a + sha] ~= '' then
			redone[#redone + 1] = ARGV[a + sha]
		end
		out[#out + 1] = res
	end
	-- The batch leaves in-flight last: a call that fails before leaves
	-- every item to be sent again, and finished by the redo.
	flush_all()
	if #redone > 0 then
		push_all('HDEL', P .. K.REDELIVERIES, redone)
	end
	finish(h, seqs, have, told == '')
	if dead_dropped > 0 then
		out[#out + 1] = dead_dropped
	end
	return out
end

-- Finish lead id's commit that a failed call began, from its record rec
-- (HMGET status, rep, assigned_at_ms, follow_up_due_ms): write what it
-- lacks.
local function redo_lead(id, seg, score, raw, rec)
	local status = rec[1]
	if status == 'nurture' then
		nurture(id, score, 'below_threshold', seg, raw)
		return RES.NURTURE
	elseif status == 'backlog' then
		local v = redis.call('HMGET', P .. K.LEAD .. id, 'received_at_ms')
		redis.call('ZADD', P .. K.BACKLOG .. seg,
		    backlog_score(score, tonumber(v[1])), id)
		wh_backlogged(id, seg, score)
		return RES.BACKLOG
	end
	if status == 'assigned' and R.reps[rec[2]] then
		assign(id, seg, score, raw, rec[2], nil, nil,
		    {at = tonumber(rec[3]), due = tonumber(rec[4])})
	end
	return RES.ASSIGNED .. (rec[2] or '')
end

-- Does no lead of the commit's items (from ARGV[base]) have a record yet?
-- One EXISTS for the batch (nearly always 0) spares each lead its TYPE and
-- HMGET: a key that exists, of whatever type, sends every lead of the call
-- through them.
local function records_absent(base)
	local keys = {}
	for a = base, #ARGV - LEAD_FIELDS + 1, LEAD_FIELDS do
		local id = ARGV[a + LEAD.ID]
		if ARGV[a + LEAD.KIND] == KIND.LEAD and id ~= '' then
			keys[#keys + 1] = P .. K.LEAD .. id
		end
	end
	for i = 1, #keys, PUSH_CHUNK do
		if redis.call('EXISTS', unpack(keys, i,
		    math.min(i + PUSH_CHUNK - 1, #keys))) > 0 then
			return false
		end
	end
	return true
end

-- The HMGET of redo_lead's fields for a lead with no record.
local NO_RECORD = {false, false, false, false, false, false}

-- commit INSTANCE ROUTING AFTER CLAIMED_AT then LEAD_FIELDS per lead, laid
-- out as LEAD (or DEAD). Returns one word per lead: RES.ASSIGNED .. REP,
-- BACKLOG, NURTURE, DUPLICATE, DEAD, KEY_CONFLICT, BAD_ITEM or FENCED.
-- The record is the lead's first write and names its delivery (the
-- payload's sha1) and claim: the same delivery sent again after a call
-- failed halfway (by the same claim, or requeued) finishes the commit.
ops[OP.COMMIT] = function()
	load_routing(COMMIT.ROUTING)
	local received = tonumber(op_arg(COMMIT.CLAIMED_AT))
	if not received then
		return redis.error_reply('ERR leadrouted: bad claim time')
	end
	local base = 1 + SCRIPT.ARGS + COMMIT.ITEMS
	local none, seen = records_absent(base), {}
	return commit_batch(K.INCOMING, op_arg(COMMIT.INSTANCE),
	    op_arg(COMMIT.AFTER), base, LEAD_FIELDS, LEAD.SHA,
	    function(a, payload)
		local id, score = ARGV[a + LEAD.ID], tonumber(ARGV[a + LEAD.SCORE])
		local seg, mqlw = ARGV[a + LEAD.SEGMENT], ARGV[a + LEAD.MQL]
		local source, raw = ARGV[a + LEAD.SOURCE], ARGV[a + LEAD.RAW]
		if raw == '' then
			raw = payload	-- the daemon leaves the in-flight copy here
		end
		local mql = mqlw == '1'
		stat('received')
		if id == '' or seg == '' or not score or
		    score ~= math.floor(score) or (not mql and mqlw ~= '0') then
			return refuse(RES.BAD_ITEM, 'lead ' .. jstr(id) ..
			    ': its arguments do not parse', K.INCOMING, raw)
		end
		local lk = P .. K.LEAD .. id
		-- No record when the call began, none written by an earlier
		-- item of the call: nothing of this lead can exist yet.
		local fresh = none and not seen[id]
		seen[id] = true
		local c = (not fresh and record_conflict(lk)) or
		    (mql and seg_conflict(seg))
		if c then
			return refuse(RES.KEY_CONFLICT, c, K.INCOMING, raw)
		end
		local sum = redis.sha1hex(raw)
		local claim = cur_inst .. KEY_SEP .. ARGV[a + LEAD.SEQ]
		local old = fresh and NO_RECORD or redis.call('HMGET', lk,
		    'status', 'rep', 'assigned_at_ms', 'follow_up_due_ms',
		    'delivery', 'claim')
		if old[1] and (old[5] ~= sum or (old[6] ~= claim and
		    ARGV[a + LEAD.SHA] ~= sum)) then
			dead_letter_raw(RES.DUPLICATE, 'lead id "' .. id ..
			    '" was already accepted', K.INCOMING, raw)
			stat('duplicate')
			return RES.DUPLICATE
		end
		stat('valid')
		src_stat(source, 'received')
		if mql then
			stat(name2('mql:', seg))
			src_stat(source, 'mql')
		end
		if old[1] then
			return redo_lead(id, seg, score, raw, old)
		end
		-- The daemon's own strings of the numbers (checked above).
		local rec = {'score', ARGV[a + LEAD.SCORE], 'segment', seg,
		    'received_at_ms', op_arg(COMMIT.CLAIMED_AT), 'mql', mqlw,
		    'lead', raw, 'score_receipt',
		    ARGV[a + LEAD.RECEIPT], 'delivery', sum, 'claim', claim}
		if source ~= '' then
			rec[#rec + 1] = 'source'
			rec[#rec + 1] = source
		end
		if not mql then
			rec[#rec + 1] = 'status'
			rec[#rec + 1] = 'nurture'
			rec[#rec + 1] = 'nurture_reason'
			rec[#rec + 1] = 'below_threshold'
			redis.call('HSET', lk, unpack(rec))
			expire_final(lk)
			nurture(id, score, 'below_threshold', seg, raw)
			return RES.NURTURE
		end
		local r = pick_rep(seg, nil)
		if r then
			assign(id, seg, score, raw, r, received, rec)
			src_stat(source, 'assigned')
			return RES.ASSIGNED .. r
		end
		rec[#rec + 1] = 'status'
		rec[#rec + 1] = 'backlog'
		redis.call('HSET', lk, unpack(rec))
		redis.call('ZADD', P .. K.BACKLOG .. seg,
		    backlog_score(score, received), id)
		stat('backlogged:' .. seg)
		wh_backlogged(id, seg, score)
		return RES.BACKLOG
	end, KIND.LEAD, LEAD.RAW)
end
