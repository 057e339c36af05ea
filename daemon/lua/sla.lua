-- sla.lua - the follow-up SLA: warnings, breaches, escalations and reassignment of leads not followed up in time (the sla operation).

local SHOWN_MAX = 20	-- alerts a call returns for the daemon's log

local fired_log = {}	-- type, lead, rep, segment of each alert, for logs

local function alert(typ, id, r, seg, assigned, due)
	publish_alert('{"type":' .. q(typ) .. ',"lead_id":' .. q(id) ..
	    ',"rep":' .. q(r) .. ',"segment":' .. q(seg) ..
	    ',"assigned_at_ms":' .. fmt(assigned) .. ',"follow_up_due_ms":' ..
	    fmt(due) .. ',"at_ms":' .. fmt(NOW) .. '}')
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
	local lk = P .. K.LEAD .. id
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
	wh_reassigned(r, to)
	stat('reassigned:' .. seg)
	drain_segments(rep_segments(r, nil))
	return true
end

-- sla ROUTING LIMIT: fire the warnings and breaches that are due, at most
-- LIMIT of each, once each whatever the number of instances. Returns
-- SLA_REPLY: fired, next due time or -1, now, more (1 when LIMIT was
-- reached), the first SHOWN_MAX alerts as "type lead=.. rep=..
-- segment=.." for the log.
ops[OP.SLA] = function()
	load_routing(SLA.ROUTING)
	local limit = tonumber(op_arg(SLA.LIMIT))
	local fired, more = 0, 0
	local dkey, wkey = P .. K.SLA_DUE, P .. K.SLA_WARN

	local due = redis.call('ZRANGEBYSCORE', dkey, '-inf', NOW, 'LIMIT', 0, limit)
	for _, id in ipairs(due) do
		stop_timers(id)	-- an overdue warning is skipped
		if breach(id) then
			fired = fired + 1
		end
	end
	local warn = redis.call('ZRANGEBYSCORE', wkey, '-inf', NOW, 'LIMIT', 0, limit)
	for _, id in ipairs(warn) do
		redis.call('ZREM', wkey, id)
		local rec = redis.call('HMGET', P .. K.LEAD .. id, 'status', 'rep',
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
	flush_all()
	local shown = {}
	for i = 1, math.min(#fired_log, SHOWN_MAX) do
		shown[i] = fired_log[i]
	end
	local out = {}
	out[1 + SLA_REPLY.FIRED] = fired
	out[1 + SLA_REPLY.NEXT] = nxt
	out[1 + SLA_REPLY.NOW] = NOW
	out[1 + SLA_REPLY.MORE] = more
	out[1 + SLA_REPLY.SHOWN] = shown
	return out
end
