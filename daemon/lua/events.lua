-- events.lua - feedback events: a rep follows up, rejects or closes a lead, or changes status (the events operation).

-- An event naming a rep the configuration does not have: dead-lettered.
local function unknown_rep(r, raw)
	dead_letter_raw(RES.UNKNOWN_REP, 'rep "' .. r ..
	    '" is not in the configuration', K.EVENTS, raw)
	return RES.UNKNOWN_REP
end

local EVENT_TYPES = {followed_up = true, rejected = true, closed = true,
    rep_status = true}

-- Apply an event to lead id. Its first write is the record's, which names
-- the event's delivery (the payload's sha1) and claim: the same delivery
-- sent again after a call failed halfway finishes what the record shows
-- (redo) instead of being refused.
local function apply_lead_event(typ, id, r, arg, raw, sha)
	local lk = P .. K.LEAD .. id
	local c = record_conflict(lk)
	if c then
		return refuse(RES.KEY_CONFLICT, c, K.EVENTS, raw)
	end
	local rec = redis.call('HMGET', lk, 'status', 'rep', 'segment', 'score',
	    'lead', 'assigned_at_ms', 'follow_up_due_ms', 'source', 'event',
	    'event_claim')
	local status, holder = rec[1], rec[2]
	if not status then
		dead_letter_raw(RES.UNKNOWN_LEAD, 'no lead "' .. id ..
		    '" was accepted', K.EVENTS, raw)
		return RES.UNKNOWN_LEAD
	end
	local sum = redis.sha1hex(raw)
	local claim = cur_inst .. KEY_SEP .. sha.seq
	local redo = holder == r and rec[9] == sum and
	    (rec[10] == claim or sha.sha == sum)
	if not redo and (holder ~= r or
	    (status ~= 'assigned' and status ~= 'followed_up')) then
		if not R.reps[r] and holder ~= r then
			return unknown_rep(r, raw)
		end
		local why
		if holder and holder ~= r then
			why = 'lead "' .. id .. '" is held by another rep'
		elseif holder then
			why = 'lead "' .. id .. '" is ' .. status .. ', no longer held by "' .. r .. '"'
		else
			why = 'lead "' .. id .. '" is ' .. status .. ' and held by no rep'
		end
		dead_letter_raw(RES.NOT_ASSIGNEE, why, K.EVENTS, raw)
		return RES.NOT_ASSIGNEE
	end
	if typ == 'followed_up' then
		if status == 'assigned' or redo then
			if not redo then
				redis.call('HSET', lk, 'status', 'followed_up',
				    'followed_up_at_ms', NOW, 'event', sum,
				    'event_claim', claim)
			end
			stop_timers(id)
			local took = NOW - (tonumber(rec[6]) or NOW)
			observe('followup', R.hist.followup, took)
			stat(name2('followed_up:', rec[3]))
			src_stat(rec[8], 'followed_up')
			if NOW <= (tonumber(rec[7]) or 0) then
				src_stat(rec[8], 'followed_up_in_sla')
			end
			src_stat(rec[8], 'fu:' .. bucket(R.hist.followup, took))
			cal_stat(rec[3], rec[4], 'a')
			wh_lead_event(typ, id, r, arg)
		end
		return RES.OK
	end
	local segs = rep_segments(r, rec[3])
	c = (R.reps[r] and rep_keys_conflict(r)) or
	    conflict(rep_key(r, KT.REP_OPEN), 'set') or segs_conflict(segs)
	if c then
		return refuse(RES.KEY_CONFLICT, c, K.EVENTS, raw)
	end
	if typ == 'rejected' then
		if not redo then
			redis.call('HSET', lk, 'status', 'rejected', 'rejected_at_ms',
			    NOW, 'reject_reason', arg, 'event', sum, 'event_claim', claim)
		end
	elseif not redo then
		redis.call('HSET', lk, 'status', 'closed', 'closed_at_ms', NOW,
		    'outcome', arg, 'event', sum, 'event_claim', claim)
	end
	release_lead(id, r, redo)
	wh_lead_event(typ, id, r, arg)
	if redo then
		status = 'followed_up' == rec[1] and rec[1] or 'assigned'
	end
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
		expire_final(lk)
		nurture(id, tonumber(rec[4]), 'rejected_by_rep', rec[3], rec[5])
		stat(name2('rejected:', rec[3]))
		src_stat(rec[8], 'rejected')
	else
		expire_final(lk)
		local word = outcome_word(arg)
		stat('closed:' .. word)
		stat('outcome:' .. rec[3] .. ':' .. word)	-- by segment, for plans
		if arg == 'won' or arg == 'lost' then
			src_stat(rec[8], arg)
			cal_stat(rec[3], rec[4], arg == 'won' and 'w' or 'l')
		end
	end
	drain_segments(segs)
	return RES.OK
end

-- events INSTANCE ROUTING AFTER then EVENT_FIELDS per event, laid out as
-- EVENT (type, lead_id, rep, reason|outcome|status, raw...) or DEAD. Returns
-- one word per event: OK, UNKNOWN_LEAD, UNKNOWN_REP, NOT_ASSIGNEE,
-- KEY_CONFLICT, BAD_ITEM, DEAD or FENCED.
ops[OP.EVENTS] = function()
	load_routing(EVENTS.ROUTING)
	return commit_batch(K.EVENTS, op_arg(EVENTS.INSTANCE),
	    op_arg(EVENTS.AFTER), 1 + SCRIPT.ARGS + EVENTS.ITEMS, EVENT_FIELDS,
	    EVENT.SHA, function(a)
		local typ, id, r = ARGV[a + EVENT.TYPE], ARGV[a + EVENT.LEAD_ID],
		    ARGV[a + EVENT.REP]
		local arg, raw = ARGV[a + EVENT.ARG], ARGV[a + EVENT.RAW]
		local res
		if not EVENT_TYPES[typ] or r == '' or
		    (typ ~= 'rep_status' and id == '') then
			res = refuse(RES.BAD_ITEM, 'event of type ' .. jstr(typ) ..
			    ': its arguments do not parse', K.EVENTS, raw)
		elseif typ ~= 'rep_status' then
			res = apply_lead_event(typ, id, r, arg, raw,
			    {seq = ARGV[a + EVENT.SEQ], sha = ARGV[a + EVENT.SHA]})
		elseif not R.reps[r] then
			res = unknown_rep(r, raw)
		else
			local c = rep_keys_conflict(r) or
			    segs_conflict(rep_segments(r, nil))
			if c then
				res = refuse(RES.KEY_CONFLICT, c, K.EVENTS, raw)
			else
				redis.call('HSET', rep_key(r, KT.REP), 'status', arg)
				if repst[r] then
					repst[r].status = arg
				end
				if arg == 'available' then
					drain_segments(rep_segments(r, nil))
				end
				res = RES.OK
			end
		end
		stat('event:' .. typ .. ':' .. res)
		return res
	end, KIND.EVENT, EVENT.RAW)
end
