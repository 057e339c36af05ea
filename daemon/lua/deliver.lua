-- deliver.lua - the webhook sender's operations on the outbox (whclaim, whdone, whretry, whdead); run as soon as this part is made.
--
-- daemon/webhook.c leases due deliveries (whclaim), sends them and reports
-- each outcome (whdone, whretry, whdead). These calls need nothing of the
-- routing table or of the parts after this one, and Redis makes every
-- function of the parts before a call's operation at each call (~25 us
-- for those after this one): like the claim, they return at the end of
-- this part. What an endpoint's deliveries are: outbox.lua.

-- The endpoint's keys: its due set, bodies, attempts, redeliveries, state.
local function wh_keys(n)
	return P .. K.WEBHOOK_DUE .. n .. KT.WEBHOOK_DUE,
	    P .. K.WEBHOOK_BODIES .. n .. KT.WEBHOOK_BODIES,
	    P .. K.WEBHOOK_TRIES .. n .. KT.WEBHOOK_TRIES,
	    P .. K.WEBHOOK_REDELIVER .. n .. KT.WEBHOOK_REDELIVER,
	    P .. K.WEBHOOK .. n
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
	local dk, bk, tk, rk, ek = wh_keys(n)
	local done, status = 0, nil
	for a = 1 + SCRIPT.ARGS + WHDONE.ITEMS, #ARGV, WHDONE_ITEM_FIELDS do
		local id = ARGV[a + WHDONE_ITEM.ID]
		-- wh_forget's writes, each only where there is something to
		-- remove, the dead entry a redelivery came from first (a call
		-- failing after it leaves the delivery pending, sent again);
		-- the body's HDEL tells whether it was pending.
		local from = redis.call('HGET', rk, id)
		if from then
			redis.call('LREM', P .. K.WEBHOOKS_DEAD, 1, from)
			redis.call('HDEL', rk, id)
		end
		if redis.call('HDEL', bk, id) == 1 then
			redis.call('ZREM', dk, id)
			redis.call('HDEL', tk, id)
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

-- whdead ENDPOINT ID ATTEMPT STATUS ERROR MAX: the delivery ended without
-- success: its entry on K.WEBHOOKS_DEAD (replacing the one a redelivery
-- came from), which keeps the newest MAX (retention.webhooks_dead_max; 0:
-- all). Replies 1 plus the oldest entries dropped, for the sender to log.
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
	local max = tonumber(op_arg(WHDEAD.MAX)) or 0
	local over = max > 0 and
	    redis.call('LLEN', P .. K.WEBHOOKS_DEAD) - max or 0
	if over > 0 then
		redis.call('LTRIM', P .. K.WEBHOOKS_DEAD, 0, max - 1)
		return 1 + over
	end
	return 1
end

-- The sender's calls: one per claim and per batch of outcomes of each
-- endpoint, at high load as many as the commits.
local wh_op = ARGV[1 + SCRIPT.OP]
if wh_op == OP.WHCLAIM or wh_op == OP.WHDONE or wh_op == OP.WHRETRY or
    wh_op == OP.WHDEAD then
	return ops[wh_op]()
end
