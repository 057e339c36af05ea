-- outbox.lua - the webhook outbox: every event an endpoint wants, recorded by the call that makes the change (deliver.lua sends them).
--
-- R.wh, in the routing table only when webhooks are configured, lists the
-- endpoints: {n = name, t = {type = true...}, r = {rep = true...} or nil}.
-- An event becomes, for each endpoint that wants its type (and whose rep
-- filter, when it has one, names a rep of the event), a pending delivery:
-- its body in K.WEBHOOK_BODIES under its webhook-id, and the id in the
-- endpoint's K.WEBHOOK_DUE scored by when it is due: now. (With
-- redis.replica_acks the instance that claims it sends WAIT after the
-- claim before sending: daemon/webhook.c.)
-- The webhook-id is "msg_" and the SHA1 of the endpoint's name and the
-- body: a call that redoes a failed one's writes (maybe_redo) dates the
-- event as that one did and finds the delivery already there.

-- ms since the epoch as RFC 3339 in UTC, "2026-12-04T09:30:00.250Z" (the
-- civil date of a day number: H. Hinnant's days_from_civil, inverted).
local function rfc3339(ms)
	local s = math.floor(ms / 1000)
	local days = math.floor(s / DAY_S)
	local sec = s - days * DAY_S
	local z = days + 719468
	local era = math.floor(z / 146097)
	local doe = z - era * 146097
	local yoe = math.floor((doe - math.floor(doe / 1460) +
	    math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
	local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
	local mp = math.floor((5 * doy + 2) / 153)
	local d = doy - math.floor((153 * mp + 2) / 5) + 1
	local m = mp < 10 and mp + 3 or mp - 9
	local y = yoe + era * 400 + (m <= 2 and 1 or 0)
	return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
	    math.floor(sec / 3600), math.floor(sec / 60) % 60, sec % 60,
	    ms - s * 1000)
end

-- Record event typ (a WH word) with data (JSON) of time at_ms for every
-- endpoint that wants it: of rep r (or r2) for a rep filter.
local function wh_record(typ, data, at_ms, r, r2)
	local body
	for _, e in ipairs(R.wh) do
		if e.t[typ] and (not e.r or (r and e.r[r]) or (r2 and e.r[r2])) then
			body = body or ('{"type":' .. q(typ) .. ',"timestamp":' ..
			    q(rfc3339(at_ms)) .. ',"data":' .. data .. '}')
			local id = 'msg_' .. redis.sha1hex(e.n .. '\n' .. body)
			local dk, bk = wh_keys(e.n)
			if redis.call('HSETNX', bk, id, body) == 1 then
				-- Due now (with replica_acks, the claimer's WAIT
				-- holds it until the replicas have the change).
				redis.call('ZADD', dk, NOW, id)
			end
		end
	end
end

-- The last assignment's JSON of this call (a reassignment's data), and
-- its time.
local wh_last, wh_last_at

-- assign() made assignment a (JSON) of lead to rep r at at_ms: a
-- lead.assigned unless it is a reassignment (first false), whose
-- lead.reassigned wh_reassigned records once the caller knows it.
local function wh_assigned(a, r, at_ms, first)
	wh_last, wh_last_at = a, at_ms
	if R.wh and first then
		wh_record(WH.ASSIGNED, a, at_ms, r)
	end
end

-- The last assignment moved the lead from rep from to rep to.
local function wh_reassigned(from, to)
	if R.wh and wh_last then
		wh_record(WH.REASSIGNED, string.sub(wh_last, 1, -2) ..
		    ',"from_rep":' .. q(from) .. '}', wh_last_at, to, from)
	end
end

local function wh_backlogged(id, seg, score)
	if R.wh then
		wh_record(WH.BACKLOGGED, '{"lead_id":' .. q(id) .. ',"segment":' ..
		    q(seg) .. ',"score":' .. fmt(score) .. ',"at_ms":' ..
		    fmt(ITEM_AT) .. '}', ITEM_AT)
	end
end

wh_nurtured = function(n)
	if R.wh then
		wh_record(WH.NURTURED, n, ITEM_AT)
	end
end

-- A feedback event's type (events.lua) -> its webhook type and the name
-- of its argument.
local WH_OF_EVENT = {
	followed_up = {WH.FOLLOWED_UP},
	rejected = {WH.REJECTED, 'reason'},
	closed = {WH.CLOSED, 'outcome'},
}

-- Rep r followed up, rejected or closed lead id (typ the event's type,
-- arg its reason or outcome).
local function wh_lead_event(typ, id, r, arg)
	local w = R.wh and WH_OF_EVENT[typ]
	if w then
		wh_record(w[1], '{"lead_id":' .. q(id) .. ',"rep":' .. q(r) ..
		    ',"at_ms":' .. fmt(ITEM_AT) ..
		    (w[2] and (',"' .. w[2] .. '":' .. jstr(arg)) or '') .. '}',
		    ITEM_AT, r)
	end
end

-- An alert's "type" -> its webhook type.
local WH_OF_ALERT = {
	sla_warning = WH.SLA_WARNING,
	sla_breach = WH.SLA_BREACH,
	sla_escalation = WH.SLA_ESCALATION,
	capacity_forecast = WH.FORECAST,
}

wh_alert = function(a)
	if R.wh then
		local o = cjson.decode(a)
		local typ = WH_OF_ALERT[o.type]
		if typ then
			wh_record(typ, a, tonumber(o.at_ms) or NOW, o.rep)
		end
	end
end
