-- reps.lua - reps and assignment: a rep's state and room, picking a rep, assigning and releasing a lead, draining backlogs (the drain operation).

-- Backlog order: highest score first, then oldest. The fraction encodes age.
local EPOCH_MS = 1577836800000	-- 2020-01-01
local AGE_SCALE = 4398046511104	-- 2^42 ms, about 139 years
-- A drain passes over at most this many waiting leads that only reps they
-- may not go back to could take.
local DRAIN_SKIP_MAX = 100
-- A rep's window keeps assignments this long: the longest capacity.period
-- the configuration accepts. Each instance counts its own period within it
-- (ZCOUNT), so one with a short period erases nothing a longer one counts.
local WINDOW_KEEP_MS = 366 * DAY_MS

local repst = {}	-- rep id -> cached state for this call

-- Rep r's key: rep_key(r, KT.REP) its hash, KT.REP_OPEN... the others.
local repkeys, REP_HEAD = {}, P .. K.REP	-- rep id -> {tail -> key}
local function rep_key(r, tail)
	return joined(repkeys, r, tail, REP_HEAD)
end

-- An entry of the audit stream (with audit.enabled): the fields given.
local function audit(...)
	redis.call('XADD', P .. K.AUDIT, 'MAXLEN', '~', R.audit, '*', ...)
end

local function rep_state(r)
	local s = repst[r]
	if s then
		return s
	end
	local h = redis.call('HMGET', rep_key(r, KT.REP), 'status',
	    'last_assigned_ms')
	local wk = rep_key(r, KT.REP_WINDOW)
	redis.call('ZREMRANGEBYSCORE', wk, '-inf', fmt(NOW - WINDOW_KEEP_MS))
	s = {
		status = h[1] or 'available',
		last = tonumber(h[2]) or -1,
		open = redis.call('SCARD', rep_key(r, KT.REP_OPEN)),
		win = redis.call('ZCOUNT', wk, '(' .. fmt(NOW - R.period), '+inf'),
	}
	repst[r] = s
	return s
end

-- The interval list of calendar name (nil: none, always open). A name the
-- routing table has no list for is a daemon's bug: no clock at all.
local function cal_list(name)
	if not name then
		return nil
	end
	local l = R.cal and R.cal[name]
	if not l then
		error('leadrouted: the routing table has no calendar "' .. name .. '"')
	end
	return l
end

-- Is rep r (of the config, c = R.reps[r]) on shift now? A rep with a
-- calendar (c[3]) only while it is open (README "Business hours"). The
-- answer per calendar is kept for the call (NOW does not move).
local cal_now = {}
local function rep_on_shift(c)
	local name = c[3]
	if not name then
		return true
	end
	local open = cal_now[name]
	if open == nil then
		open = cal_open_at(cal_list(name), NOW)
		cal_now[name] = open
	end
	return open
end

-- Why rep r's keys cannot be written (one holds another type: a router
-- whose prefix nests wrote it), or nil. Such a rep gets no lead.
-- The answer is kept for the call: a call writes no key of another type.
local repconf = {}	-- rep id -> why, or false
local function rep_keys_conflict(r)
	local c = repconf[r]
	if c == nil then
		c = conflict(rep_key(r, KT.REP), 'hash') or
		    conflict(rep_key(r, KT.REP_OPEN), 'set') or
		    conflict(rep_key(r, KT.REP_WINDOW), 'zset') or
		    conflict(rep_key(r, KT.REP_INBOX), 'list') or false
		repconf[r] = c
	end
	return c or nil
end

-- The first of l (key and TYPE name pairs), with the audit stream and
-- the webhook outbox's keys where they are written, that holds another
-- type: nil, or why (conflict's answer).
local function keys_conflict(l)
	if R.audit > 0 then
		l[#l + 1] = P .. K.AUDIT
		l[#l + 1] = 'stream'
	end
	for _, e in ipairs(R.wh or {}) do
		local dk, bk = wh_keys(e.n)
		l[#l + 1], l[#l + 2], l[#l + 3], l[#l + 4] = dk, 'zset', bk, 'hash'
	end
	for i = 1, #l, 2 do
		local c = conflict(l[i], l[i + 1])
		if c then
			return c
		end
	end
	return nil
end

-- What a rep of config c (R.reps[r]) with state s (open, win) can still
-- take under both limits, never negative: the room the forecast and the
-- read API share.
local function limits_room(c, s)
	local room = c[1] - s.open
	if c[2] > 0 and c[2] - s.win < room then
		room = c[2] - s.win
	end
	return math.max(room, 0)
end

-- The keys a drain or sla call may write besides leads' and reps': nil,
-- or why one cannot be used (the call is refused before any write).
local function periodic_conflict()
	local day = fmt(math.floor(NOW / DAY_MS))
	return keys_conflict({P .. K.STATS, 'hash', P .. K.SLA_DUE, 'zset',
	    P .. K.SLA_WARN, 'zset', P .. K.ALERTS_LOG, 'stream',
	    P .. K.SRC_ALL, 'hash', P .. K.SRC_DAY .. day, 'hash',
	    P .. K.SRC_NAMES, 'set'})
end

-- Items a drain or sla call skipped for a key of another type: log lines.
local skipped = {}

local function rep_can_take(r)
	local c = R.reps[r]
	if not c or rep_keys_conflict(r) then
		return false	-- removed from the config: keeps leads, gets no new
	end
	local s = rep_state(r)
	return s.status ~= 'away' and s.open < c[1] and
	    (c[2] == 0 or s.win < c[2]) and (not c[3] or rep_on_shift(c))
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

-- What assignments defer to the end of the call: per rep (dirty_reps) its
-- last assignment's time and its window entries (those of a rep without
-- max_per_period: a limit is written at once), the SLA timers.
local dirty_reps, due_z, warn_z, window_z = {}, {}, {}, {}

-- Is there an audit entry op (assign, release) of lead id and rep r among
-- the newest REDO_SCAN? (A redone write looks before it writes again.)
local function audited(op, id, r)
	for _, e in ipairs(redis.call('XREVRANGE', P .. K.AUDIT, '+', '-',
	    'COUNT', REDO_SCAN)) do
		local f = e[2]
		if f[2] == op and f[4] == id and f[6] == r then
			return true
		end
	end
	return false
end

-- Assign lead id to rep r. The record is written first, so that a call
-- that fails after it leaves what the redo needs: with rec (a first
-- assignment's record, or the fields a reassignment adds) the
-- assignment's fields go into rec, written in one HSET that also starts
-- sla_breached at 0 (a reassignment's caller sets it back to 1); without
-- rec they are written alone. received: when the router took the lead
-- (ms), for its own latency SLO; nil for a reassignment.
-- redo ({at, due} from the record): finish an assignment a failed call
-- began: write nothing the record or Redis already shows. moved: a
-- reassignment (rec then holds only the fields it adds): no
-- lead.assigned webhook, the caller records lead.reassigned.
local function assign(id, seg, score, raw, r, received, rec, redo, moved)
	local s = rep_state(r)
	-- The SLA clock: the rep's calendar, else sla.calendar, else always
	-- open; its name goes into the record as sla_calendar.
	local c = R.reps[r]
	local cn = (c and c[3]) or R.sla_cal
	local cl = cn and cal_list(cn)
	local at = NOW
	if redo then
		at = redo.at
	end
	local due = redo and redo.due or cal_due(cl, at, R.follow / 1000)
	-- Numbers go to Redis as the strings of fmt: Redis would otherwise
	-- print each with "%.17g".
	local sat, sdue = fmt(at), fmt(due)
	local a = '{"lead_id":"' .. id .. '","rep":"' .. r ..
	    '","segment":"' .. seg .. '","score":' .. fmt(score) ..
	    ',"assigned_at_ms":' .. sat .. ',"follow_up_due_ms":' ..
	    sdue .. ',"lead":' .. raw .. '}'
	local lk = P .. K.LEAD .. id

	if rec then
		local n = #rec
		rec[n + 1], rec[n + 2] = 'status', 'assigned'
		rec[n + 3], rec[n + 4] = 'rep', r
		rec[n + 5], rec[n + 6] = 'assigned_at_ms', sat
		rec[n + 7], rec[n + 8] = 'follow_up_due_ms', sdue
		rec[n + 9], rec[n + 10] = 'sla_breached', '0'
		if cn then
			rec[n + 11], rec[n + 12] = 'sla_calendar', cn
		elseif moved then
			redis.call('HDEL', lk, 'sla_calendar')	-- its clock now
		end
		redis.call('HSET', lk, unpack(rec))
	elseif not redo then
		redis.call('HSET', lk, 'status', 'assigned', 'rep', r,
		    'assigned_at_ms', sat, 'follow_up_due_ms', sdue)
		if cn then
			redis.call('HSET', lk, 'sla_calendar', cn)
		else
			redis.call('HDEL', lk, 'sla_calendar')
		end
	end
	local okey, inbox = rep_key(r, KT.REP_OPEN), rep_key(r, KT.REP_INBOX)
	if not dirty_reps[r] then
		dirty_reps[r] = true
		window_z[r] = {}
	end
	-- Not deferred to the end of the call: a call that fails after the
	-- record leaves the lead counted against the rep until its redo,
	-- or other calls would give the rep more than its max_open.
	if redis.call('SADD', okey, id) == 1 then
		s.open = s.open + 1
	end
	-- Likewise the window entry where max_per_period makes it a limit
	-- (a redo finds the failed call's entry: counted once); where it
	-- limits nothing it is deferred.
	if c and c[2] > 0 then
		if redis.call('ZADD', rep_key(r, KT.REP_WINDOW), sat, id) == 1 then
			s.win = s.win + 1
		end
	else
		s.win = s.win + 1
		local w = window_z[r]
		w[#w + 1] = sat
		w[#w + 1] = id
	end
	s.last = at
	if R.audit > 0 and not (redo and audited('assign', id, r)) then
		-- The counts as this script saw them, for an auditor to replay.
		audit('op', 'assign', 'lead', id, 'rep', r, 'open', s.open,
		    'max_open', c[1], 'period', s.win, 'max_per_period', c[2])
	end
	if not (redo and redis.call('LPOS', inbox, a)) then
		lpush_later(inbox, a, R.inbox_max)
		redis.call('PUBLISH', P .. K.ASSIGNMENTS, a)
	end
	due_z[#due_z + 1] = sdue
	due_z[#due_z + 1] = id
	if R.warn > 0 then
		warn_z[#warn_z + 1] = fmt(cal_due(cl, at,
		    (R.follow - R.warn) / 1000))
		warn_z[#warn_z + 1] = id
	end
	stat(name2('assigned:', seg))
	stat(name2('assigned_rep:', r))
	if received then
		observe('latency', R.hist.latency, NOW - received)
	end
	wh_assigned(a, r, at, not moved)
end

local function backlog_score(score, received)
	return string.format('%.17g', -score + (received - EPOCH_MS) / AGE_SCALE)
end

local function flush_assignments()
	for r in pairs(dirty_reps) do
		redis.call('HSET', rep_key(r, KT.REP), 'last_assigned_ms',
		    repst[r].last)
		push_all('ZADD', rep_key(r, KT.REP_WINDOW), window_z[r])
	end
	if #due_z > 0 then
		push_all('ZADD', P .. K.SLA_DUE, due_z)
	end
	if #warn_z > 0 then
		push_all('ZADD', P .. K.SLA_WARN, warn_z)
	end
end

-- Backlog entries drained by this call: backlog key -> {id = true}. They
-- leave their backlog after the pushes, so that a call failing before
-- them leaves the entry for the redo to find.
local drained = {}

local function flush_drained()
	for key, ids in pairs(drained) do
		local l = {}
		for id in pairs(ids) do
			l[#l + 1] = id
		end
		push_all('ZREM', key, l)
	end
end

-- Write what the call deferred: assignments, list pushes, backlog
-- removals, counters.
local function flush_all()
	flush_assignments()
	flush_pushes()
	flush_drained()
	flush_stats()
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

-- Assign waiting leads of seg while some rep can take them. A lead whose
-- record says assigned while it still waits was assigned by a call that
-- failed before its end: its assignment is finished (redo).
local function drain(seg)
	local key = P .. K.BACKLOG .. seg
	local skip, moved, pos = 0, 0, 0
	local bad = conflict(key, 'zset')
	if bad then
		skipped[#skipped + 1] = 'segment ' .. seg .. ': ' .. bad
		stat('skipped:key_conflict')
		return 0
	end
	local gone = drained[key]
	if not gone then
		gone = {}
		drained[key] = gone
	end
	while skip < DRAIN_SKIP_MAX do
		local top = redis.call('ZRANGE', key, pos, pos)
		if #top == 0 then
			break
		end
		local id = top[1]
		local lk = P .. K.LEAD .. id
		local rec = (not gone[id] and not record_conflict(lk)) and
		    redis.call('HMGET', lk, 'status', 'score', 'lead',
		    'breached_by', 'received_at_ms', 'source', 'rep',
		    'assigned_at_ms', 'follow_up_due_ms')
		local held = rec and rec[1] == 'assigned' and R.reps[rec[7]]
		local bad = held and rep_keys_conflict(rec[7])
		if gone[id] then
			pos = pos + 1
		elseif bad then
			-- Its rep's keys hold another type: it waits, unfinished.
			skipped[#skipped + 1] = 'lead ' .. id .. ': ' .. bad
			stat('skipped:key_conflict')
			pos = pos + 1
		elseif held then
			assign(id, seg, tonumber(rec[2]), rec[3], rec[7], nil, nil,
			    {at = tonumber(rec[8]), due = tonumber(rec[9])})
			gone[id] = true
			pos = pos + 1
		elseif not rec or rec[1] ~= 'backlog' then
			redis.call('ZREM', key, id)	-- stale entry
		elseif maybe_redo then
			-- A redo finishes what a failed call began, no more: a
			-- later item of that call may have freed the slot it sees.
			-- The periodic drain assigns the rest.
			break
		else
			local r = pick_rep(seg, set_of(rec[4]))
			if r then
				assign(id, seg, tonumber(rec[2]), rec[3], r,
				    tonumber(rec[5]), {})
				gone[id] = true
				pos = pos + 1
				src_stat(rec[6], 'assigned')
				moved = moved + 1
			elseif rec[4] and pick_rep(seg, nil) then
				skip = skip + 1	-- only reps it may not go back to have room
				pos = pos + 1
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

-- Stop a lead's follow-up timers: its due time and its warning.
local function stop_timers(id)
	redis.call('ZREM', P .. K.SLA_DUE, id)
	redis.call('ZREM', P .. K.SLA_WARN, id)
end

-- A lead leaves its rep (closed or rejected): free the slot, stop timers
-- (unless keep: a reassignment moves them last). redo: finish a release a
-- failed call began.
local function release_lead(id, r, redo, keep)
	if redis.call('SREM', rep_key(r, KT.REP_OPEN), id) == 1 and
	    repst[r] then
		repst[r].open = repst[r].open - 1
	end
	if not keep then
		stop_timers(id)
	end
	if R.audit > 0 and not (redo and audited('release', id, r)) then
		audit('op', 'release', 'lead', id, 'rep', r, 'open',
		    redis.call('SCARD', rep_key(r, KT.REP_OPEN)))
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

-- drain ROUTING: assign whatever the backlogs hold and reps can take
-- (after a reload, and periodically as rolling windows free capacity).
-- Replies DRAIN_REPLY. Refused before any write when a shared key holds
-- another type; a backlog, or a half-assigned lead whose rep's keys, hold
-- another type is skipped (counted, one log line each); a rep with such
-- keys gets no lead.
ops[OP.DRAIN] = function()
	load_routing(DRAIN.ROUTING)
	local c = periodic_conflict()
	if c then
		return redis.error_reply('ERR leadrouted: ' .. c)
	end
	local moved = 0
	for _, seg in ipairs(R.seg_order) do
		-- (Redis deletes an empty sorted set: 'none' is empty.)
		if key_type(P .. K.BACKLOG .. seg) ~= 'none' then
			moved = moved + drain(seg)
		end
	end
	flush_all()
	local out = {}
	out[1 + DRAIN_REPLY.MOVED] = moved
	out[1 + DRAIN_REPLY.SKIPPED] = skipped
	return out
end
