-- read.lua - what the read API (/v1/status, /v1/sla) shows of shared state, in one read-only call each (the status and board operations).

-- A rep's state read without a write (rep_state trims the window).
local function rep_look(r)
	local h = redis.call('HMGET', rep_key(r, KT.REP), 'status',
	    'last_assigned_ms')
	return {
		status = h[1] or 'available',
		last = tonumber(h[2]) or -1,
		open = redis.call('SCARD', rep_key(r, KT.REP_OPEN)),
		win = redis.call('ZCOUNT', rep_key(r, KT.REP_WINDOW),
		    '(' .. fmt(NOW - R.period), '+inf'),
	}
end

-- What rep r can still take now under both limits (never negative); 0
-- when away, off shift or no longer in the routing.
local function look_room(r, s)
	local c = R.reps[r]
	if not c or s.status == 'away' or not rep_on_shift(c) then
		return 0
	end
	return limits_room(c, s)
end

local function num(x)
	if x == nil then
		return 'null'
	end
	if x == math.floor(x) and math.abs(x) < 1e15 then
		return fmt(x)
	end
	return string.format('%.6g', x)
end

-- status ROUTING: the router at a glance, as JSON: now_ms, segments (name,
-- backlog, room: what its reps can take now, a rep of several segments
-- shared in proportion to the forecast's arrival rates as the forecast
-- shares it, forecast: the last capacity forecast or null), reps (id,
-- status, open, max_open, period, max_per_period, last_assigned_ms or
-- null), sla (pending, next_due_ms or null), instances, incoming, dead.
-- Reads a fixed number of keys per segment and rep: no key of unbounded
-- size is read whole.
ops[OP.STATUS] = function()
	load_routing(STATUS.ROUTING)
	local fk = P .. K.FORECAST
	local rate, share, segs, reps = {}, {}, {}, {}
	local fc = {}
	for _, seg in ipairs(R.seg_order) do
		local h = redis.call('HMGET', fk, seg .. '|rate', seg .. '|eta',
		    seg .. '|episode', seg .. '|at')
		fc[seg] = h
		rate[seg] = tonumber(h[1]) or 0
		share[seg] = 0
	end
	local segs_of = {}	-- rep -> its segments, in segment order
	for _, seg in ipairs(R.seg_order) do
		for _, x in ipairs(R.segs[seg]) do
			local t = segs_of[x]
			if not t then
				t = {}
				segs_of[x] = t
			end
			t[#t + 1] = seg
		end
	end
	for _, r in ipairs(R.rep_order) do
		local s = rep_look(r)
		local mine = segs_of[r] or {}
		local free = #mine > 0 and look_room(r, s) or 0
		if free > 0 then
			local total = 0
			for _, seg in ipairs(mine) do
				total = total + rate[seg]
			end
			for _, seg in ipairs(mine) do
				if total > 0 then
					share[seg] = share[seg] + free * rate[seg] / total
				else
					share[seg] = share[seg] + free / #mine
				end
			end
		end
		local c = R.reps[r]
		reps[#reps + 1] = '{"id":' .. q(r) .. ',"status":' .. jstr(s.status) ..
		    ',"open":' .. fmt(s.open) .. ',"max_open":' .. fmt(c[1]) ..
		    ',"period":' .. fmt(s.win) .. ',"max_per_period":' ..
		    fmt(c[2]) .. ',"last_assigned_ms":' ..
		    (s.last >= 0 and fmt(s.last) or 'null') .. '}'
	end
	for _, seg in ipairs(R.seg_order) do
		local h = fc[seg]
		local f = 'null'
		if h[4] then
			local eta = tonumber(h[2]) or -1
			f = '{"mql_per_hour":' .. num(rate[seg] * 3600) ..
			    ',"exhausted_in_s":' ..
			    (eta < 0 and 'null' or num(math.floor(eta))) ..
			    ',"episode":' .. (h[3] and 'true' or 'false') ..
			    ',"at_ms":' .. num(tonumber(h[4])) .. '}'
		end
		segs[#segs + 1] = '{"name":' .. q(seg) .. ',"backlog":' ..
		    fmt(redis.call('ZCARD', P .. K.BACKLOG .. seg)) ..
		    ',"room":' .. num(math.floor(share[seg] * 100 + 0.5) / 100) ..
		    ',"forecast":' .. f .. '}'
	end
	local nd = redis.call('ZRANGE', P .. K.SLA_DUE, 0, 0, 'WITHSCORES')
	return '{"now_ms":' .. fmt(NOW) .. ',"segments":[' ..
	    table.concat(segs, ',') .. '],"reps":[' .. table.concat(reps, ',') ..
	    '],"sla":{"pending":' .. fmt(redis.call('ZCARD', P .. K.SLA_DUE)) ..
	    ',"next_due_ms":' .. (#nd > 0 and nd[2] or 'null') ..
	    '},"instances":' .. fmt(redis.call('ZCOUNT', P .. K.INSTANCES,
	    fmt(NOW), '+inf')) .. ',"incoming":' ..
	    fmt(redis.call('LLEN', P .. K.INCOMING)) .. ',"dead":' ..
	    fmt(redis.call('LLEN', P .. K.DEAD)) .. '}'
end

-- board ROUTING LIMIT SCAN: the assignments not yet acted on (status
-- assigned, in the open set of a rep of the routing), by follow-up due
-- time. Returns BOARD_REPLY: the first LIMIT as a JSON array of objects
-- (lead_id, rep, segment, score, assigned_at_ms, follow_up_due_ms,
-- sla_breached), how many were looked at, 1 when some were not looked at
-- or not returned. Looks at SCAN open leads at most, whatever the open
-- sets hold.
ops[OP.BOARD] = function()
	load_routing(BOARD.ROUTING)
	local limit = tonumber(op_arg(BOARD.LIMIT))
	local budget = tonumber(op_arg(BOARD.SCAN))
	local rows, more = {}, false
	for _, r in ipairs(R.rep_order) do
		local okey = rep_key(r, KT.REP_OPEN)
		local n = redis.call('SCARD', okey)
		local ids
		if n > budget then
			more = true
			ids = budget > 0 and redis.call('SRANDMEMBER', okey, budget) or {}
		else
			ids = redis.call('SMEMBERS', okey)
		end
		budget = budget - #ids
		for _, id in ipairs(ids) do
			local h = redis.call('HMGET', P .. K.LEAD .. id, 'status', 'rep',
			    'segment', 'score', 'assigned_at_ms', 'follow_up_due_ms',
			    'sla_breached')
			if h[1] == 'assigned' and h[2] == r then
				rows[#rows + 1] = {id = id, h = h,
				    due = tonumber(h[6]) or 0}
			end
		end
	end
	table.sort(rows, function(a, b)
		if a.due ~= b.due then
			return a.due < b.due
		end
		return a.id < b.id
	end)
	local items = {}
	for i = 1, math.min(#rows, limit) do
		local h = rows[i].h
		items[i] = '{"lead_id":' .. jstr(rows[i].id) .. ',"rep":' .. q(h[2]) ..
		    ',"segment":' .. jstr(h[3] or '') .. ',"score":' ..
		    num(tonumber(h[4])) .. ',"assigned_at_ms":' ..
		    num(tonumber(h[5])) .. ',"follow_up_due_ms":' ..
		    num(tonumber(h[6])) .. ',"sla_breached":' ..
		    (h[7] == '1' and 'true' or 'false') .. '}'
	end
	if #rows > limit then
		more = true
	end
	local out = {}
	out[1 + BOARD_REPLY.ITEMS] = '[' .. table.concat(items, ',') .. ']'
	out[1 + BOARD_REPLY.TOTAL] = #rows
	out[1 + BOARD_REPLY.MORE] = more and 1 or 0
	return out
end
