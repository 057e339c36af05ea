-- sla.lua - the follow-up SLA: warnings, breaches, escalations and reassignment of leads not followed up in time (the sla operation).

local SHOWN_MAX = 20	-- alerts a call returns for the daemon's log

local fired_log = {}	-- type, lead, rep, segment of each alert, for logs

local function alert_head(typ, id, r, seg, assigned)
	return '{"type":' .. q(typ) .. ',"lead_id":' .. q(id) ..
	    ',"rep":' .. q(r) .. ',"segment":' .. q(seg) ..
	    ',"assigned_at_ms":' .. fmt(assigned) .. ','
end

-- That alert as logged, if among the newest REDO_SCAN of the log, or nil.
-- (A redone breach looks before it alerts again; what it finds it records
-- for the webhooks again, which the outbox keeps once: the failed call
-- may have logged the alert and failed before its webhook.)
local function alert_logged(typ, id, r, seg, assigned)
	local head = alert_head(typ, id, r, seg, assigned)
	for _, e in ipairs(redis.call('XREVRANGE', P .. K.ALERTS_LOG, '+', '-',
	    'COUNT', REDO_SCAN)) do
		local a = e[2][2]
		if a and a:sub(1, #head) == head then
			return a
		end
	end
	return nil
end

local function alert(typ, id, r, seg, assigned, due)
	publish_alert(alert_head(typ, id, r, seg, assigned) ..
	    '"follow_up_due_ms":' .. fmt(due) .. ',"at_ms":' .. fmt(NOW) .. '}')
	stat('alert:' .. typ .. ':' .. seg .. ':' .. r)
	fired_log[#fired_log + 1] = typ .. ' lead=' .. id .. ' rep=' .. r ..
	    ' segment=' .. seg
end

-- Escalate once per assignment chain: ops must step in. (It ends the
-- chain: on a redo, an escalation the log lacks was not sent.)
local function escalate(lk, id, r, seg, assigned, due, redo)
	local logged = redo and
	    alert_logged('sla_escalation', id, r, seg, assigned)
	if redis.call('HSETNX', lk, 'escalated', 1) == 1 or
	    (redo and not logged) then
		alert('sla_escalation', id, r, seg, assigned, due)
	elseif logged then
		wh_alert(logged)
	end
end

-- A field of the record while a call breaches its assignment: the
-- timer's due time. The call that finds it set (a call that failed began
-- the breach) alerts only when the log lacks the alert. Dropped at the
-- end of the call.
local SLA_TRY = 'sla_try'

-- Leads whose breach reassigned them (their timers now hold the new
-- assignment's times), and the records marked SLA_TRY by this call.
local moved_on, tried_lk = {}, {}

-- A breach of the assignment whose timer is due at due_ms: flag the lead,
-- alert, and in reassign mode move it on. Nothing is written before the
-- keys it needs are checked: one of another type skips the lead (its
-- timers are dropped), with a log line. A call that failed halfway is
-- finished: a record already moved on (its due time is not the timer's)
-- gets the rest of its reassignment, an alert is not sent twice.
local function breach(id, due_ms)
	local lk = P .. K.LEAD .. id
	local bad = record_conflict(lk)
	local rec = not bad and redis.call('HMGET', lk, 'status', 'rep',
	    'segment', 'assigned_at_ms', 'follow_up_due_ms', 'breached_by',
	    'reassign_count', 'score', 'lead', SLA_TRY)
	if rec and rec[1] == 'assigned' and R.reassign then
		bad = rep_keys_conflict(rec[2])
	end
	if bad then
		skipped[#skipped + 1] = 'sla_skipped lead=' .. id .. ': ' .. bad
		stat('skipped:key_conflict')
		return false
	end
	if rec[1] ~= 'assigned' then
		return false	-- acted on (followed up, rejected, closed) in time
	end
	local r, seg, assigned, due = rec[2], rec[3], tonumber(rec[4]),
	    tonumber(rec[5])
	local redo = rec[10] == fmt(due_ms)
	if redo and due ~= due_ms then
		-- A failed call began this breach and reassigned the lead:
		-- finish the new assignment (unless a reload removed its rep).
		tried_lk[#tried_lk + 1] = lk
		if due and R.reps[r] then
			assign(id, seg, tonumber(rec[8]), rec[9], r, nil, nil,
			    {at = assigned, due = due}, true)
			redis.call('HSET', lk, 'sla_breached', 1)
			-- Its lead.reassigned, dated by the assignment as the
			-- failed call dated it: recorded once.
			local from = rec[6] and string.match(rec[6], '([^,]+)$')
			if from then
				wh_reassigned(from, r)
			end
			moved_on[id] = true
		end
		return false
	end
	if not redo then
		redis.call('HSET', lk, SLA_TRY, fmt(due_ms))
	end
	tried_lk[#tried_lk + 1] = lk
	redis.call('HSET', lk, 'sla_breached', 1)
	local logged = redo and alert_logged('sla_breach', id, r, seg, assigned)
	if logged then
		wh_alert(logged)
	else
		alert('sla_breach', id, r, seg, assigned, due)
	end
	if not R.reassign then
		return true
	end
	local was = set_of(rec[6])
	local by = rec[6] and (was[r] and rec[6] or rec[6] .. ',' .. r) or r
	local hops = tonumber(rec[7]) or 0
	redis.call('HSET', lk, 'breached_by', by)
	if hops >= R.max_reassign then
		escalate(lk, id, r, seg, assigned, due, redo)
		return true
	end
	local to = pick_rep(seg, set_of(by))
	if not to then
		escalate(lk, id, r, seg, assigned, due, redo)
		return true
	end
	release_lead(id, r, redo, true)
	-- The count goes with the new assignment's record, in one write.
	assign(id, seg, tonumber(rec[8]), rec[9], to, nil,
	    {'reassign_count', hops + 1}, nil, true)
	redis.call('HSET', lk, 'sla_breached', 1)	-- it stays 1
	wh_reassigned(r, to)
	moved_on[id] = true
	stat('reassigned:' .. seg)
	drain_segments(rep_segments(r, nil))
	return true
end

-- Take the timers of leads moved on out of z (due_z, warn_z: score, id
-- pairs): they are written after everything else.
local function take_timers(z)
	local keep, taken = {}, {}
	for i = 1, #z, 2 do
		local t = moved_on[z[i + 1]] and taken or keep
		t[#t + 1] = z[i]
		t[#t + 1] = z[i + 1]
	end
	for i = #z, 1, -1 do
		z[i] = nil
	end
	for i, v in ipairs(keep) do
		z[i] = v
	end
	return taken
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
	local c = periodic_conflict()
	if c then
		return redis.error_reply('ERR leadrouted: ' .. c)
	end

	-- Timers leave last: a call that fails before leaves them due, and
	-- the next call finishes what this one began.
	local due = redis.call('ZRANGEBYSCORE', dkey, '-inf', NOW, 'WITHSCORES',
	    'LIMIT', 0, limit)
	for i = 1, #due, 2 do
		if breach(due[i], tonumber(due[i + 1])) then
			fired = fired + 1
		end
	end
	local warn = redis.call('ZRANGEBYSCORE', wkey, '-inf', NOW, 'LIMIT', 0, limit)
	for _, id in ipairs(warn) do
		redis.call('ZREM', wkey, id)	-- a warning is sent once at most
		local lk = P .. K.LEAD .. id
		local rec = not record_conflict(lk) and redis.call('HMGET', lk,
		    'status', 'rep', 'segment', 'assigned_at_ms',
		    'follow_up_due_ms')
		if rec and rec[1] == 'assigned' and tonumber(rec[5]) > NOW then
			alert('sla_warning', id, rec[2], rec[3], tonumber(rec[4]),
			    tonumber(rec[5]))
			fired = fired + 1
		end
	end
	if #due == 2 * limit or #warn == limit then
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
	-- The timers go last: the new ones of leads moved on (a call that
	-- fails before leaves the old one due, and the next call finishes the
	-- move), then those of the others (an overdue warning is skipped),
	-- then the marks.
	local new_due, new_warn = take_timers(due_z), take_timers(warn_z)
	flush_all()
	push_all('ZADD', dkey, new_due)
	push_all('ZADD', wkey, new_warn)
	for i = 1, #due, 2 do
		if not moved_on[due[i]] then
			stop_timers(due[i])
		end
	end
	for _, lk in ipairs(tried_lk) do
		redis.call('HDEL', lk, SLA_TRY)
	end
	local shown = {}
	for i = 1, math.min(#fired_log, SHOWN_MAX) do
		shown[i] = fired_log[i]
	end
	for _, line in ipairs(skipped) do
		if #shown < SHOWN_MAX then
			shown[#shown + 1] = line
		end
	end
	local out = {}
	out[1 + SLA_REPLY.FIRED] = fired
	out[1 + SLA_REPLY.NEXT] = nxt
	out[1 + SLA_REPLY.NOW] = NOW
	out[1 + SLA_REPLY.MORE] = more
	out[1 + SLA_REPLY.SHOWN] = shown
	return out
end
