-- outbox.lua - the webhook outbox: every event an endpoint wants, recorded by the call that makes the change; and the delivery operations (whclaim, whdone, whretry, whdead).
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

-- The endpoint's keys: its due set, bodies, attempts, redeliveries, state.
local function wh_keys(n)
	return P .. K.WEBHOOK_DUE .. n .. KT.WEBHOOK_DUE,
	    P .. K.WEBHOOK_BODIES .. n .. KT.WEBHOOK_BODIES,
	    P .. K.WEBHOOK_TRIES .. n .. KT.WEBHOOK_TRIES,
	    P .. K.WEBHOOK_REDELIVER .. n .. KT.WEBHOOK_REDELIVER,
	    P .. K.WEBHOOK .. n
end

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

-- whclaim ENDPOINT MAX LEASE_MS: lease up to MAX due deliveries of the
-- endpoint for LEASE_MS (due again after it, for any instance, unless
-- done), counting an attempt each. Returns WHCLAIM_REPLY: now, the next
-- due time, the number pending, then per delivery its id, body and the
-- number of this attempt.
ops[OP.WHCLAIM] = function()
	local n = op_arg(WHCLAIM.ENDPOINT)
	local max, lease = tonumber(op_arg(WHCLAIM.MAX)),
	    tonumber(op_arg(WHCLAIM.LEASE_MS))
	local dk, bk, tk = wh_keys(n)
	local items = {}
	for _, id in ipairs(redis.call('ZRANGEBYSCORE', dk, '-inf', NOW,
	    'LIMIT', 0, max)) do
		local body = redis.call('HGET', bk, id)
		if body then
			redis.call('ZADD', dk, NOW + lease, id)
			items[#items + 1] = id
			items[#items + 1] = body
			items[#items + 1] = redis.call('HINCRBY', tk, id, 1)
		else
			redis.call('ZREM', dk, id)	-- its body is gone: nothing to send
		end
	end
	local nx = redis.call('ZRANGE', dk, 0, 0, 'WITHSCORES')
	local out = {}
	out[1 + WHCLAIM_REPLY.NOW] = NOW
	out[1 + WHCLAIM_REPLY.NEXT] = #nx > 0 and tonumber(nx[2]) or -1
	out[1 + WHCLAIM_REPLY.PENDING] = redis.call('ZCARD', dk)
	for i, v in ipairs(items) do
		out[WHCLAIM_REPLY.ITEMS + i] = v
	end
	return out
end

-- Forget a delivery: its due entry, body, attempts, redelivery's origin.
local function wh_forget(n, id)
	local dk, bk, tk, rk = wh_keys(n)
	redis.call('ZREM', dk, id)
	redis.call('HDEL', bk, id)
	redis.call('HDEL', tk, id)
	redis.call('HDEL', rk, id)
end

-- whdone ENDPOINT then WHDONE_ITEM items: delivered; a redelivery leaves
-- the dead list. The sender reports the deliveries that ended while its
-- last whdone was in the air in one call, so a busy endpoint costs a call
-- per batch, not one per delivery. The endpoint's last_status is the
-- last pending item's.
ops[OP.WHDONE] = function()
	local n = op_arg(WHDONE.ENDPOINT)
	local _, bk, _, rk, ek = wh_keys(n)
	local done, status = 0, nil
	for a = 1 + SCRIPT.ARGS + WHDONE.ITEMS, #ARGV, WHDONE_ITEM_FIELDS do
		local id = ARGV[a + WHDONE_ITEM.ID]
		if redis.call('HEXISTS', bk, id) == 1 then
			local from = redis.call('HGET', rk, id)
			if from then
				redis.call('LREM', P .. K.WEBHOOKS_DEAD, 1, from)
			end
			wh_forget(n, id)
			done = done + 1
			status = ARGV[a + WHDONE_ITEM.STATUS]
		end
	end
	if status then
		redis.call('HSET', ek, 'last_status', status, 'last_ok_ms', NOW)
	end
	return done
end

-- Is ATTEMPT (argument i) still the delivery's latest attempt?
local function wh_current(tk, id, i)
	return redis.call('HGET', tk, id) == op_arg(i)
end

-- whretry ENDPOINT ID ATTEMPT DELAY_MS STATUS ERROR: due again later.
ops[OP.WHRETRY] = function()
	local n, id = op_arg(WHRETRY.ENDPOINT), op_arg(WHRETRY.ID)
	local dk, _, tk, _, ek = wh_keys(n)
	if not wh_current(tk, id, WHRETRY.ATTEMPT) then
		return 0
	end
	redis.call('ZADD', dk, NOW + tonumber(op_arg(WHRETRY.DELAY_MS)), id)
	redis.call('HSET', ek, 'last_status', op_arg(WHRETRY.STATUS),
	    'last_error', op_arg(WHRETRY.ERROR), 'last_error_ms', NOW)
	return 1
end

-- whdead ENDPOINT ID ATTEMPT STATUS ERROR: the delivery ended without
-- success: its entry on K.WEBHOOKS_DEAD (replacing the one a redelivery
-- came from).
ops[OP.WHDEAD] = function()
	local n, id = op_arg(WHDEAD.ENDPOINT), op_arg(WHDEAD.ID)
	local _, bk, tk, rk, ek = wh_keys(n)
	if not wh_current(tk, id, WHDEAD.ATTEMPT) then
		return 0
	end
	local body = redis.call('HGET', bk, id)
	local ok, o = pcall(cjson.decode, body or '')
	local typ = ok and type(o) == 'table' and o.type or ''
	local status, err = op_arg(WHDEAD.STATUS), op_arg(WHDEAD.ERROR)
	local from = redis.call('HGET', rk, id)
	if from then
		redis.call('LREM', P .. K.WEBHOOKS_DEAD, 1, from)
	end
	redis.call('LPUSH', P .. K.WEBHOOKS_DEAD, '{"endpoint":' .. jstr(n) ..
	    ',"webhook_id":' .. jstr(id) .. ',"type":' .. jstr(typ) ..
	    ',"attempts":' .. fmt(tonumber(op_arg(WHDEAD.ATTEMPT)) or 0) .. ',"last_status":' ..
	    fmt(tonumber(status) or 0) .. ',"last_error":' .. jstr(err) ..
	    ',"at_ms":' .. fmt(NOW) .. ',"body":' .. jstr(body or '') .. '}')
	wh_forget(n, id)
	redis.call('HSET', ek, 'last_status', status, 'last_error', err,
	    'last_error_ms', NOW)
	return 1
end
