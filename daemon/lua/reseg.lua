-- reseg.lua - backlogs of segments a configuration no longer has: finding their leads (strays) and moving them to the segments the daemon decided (move).

-- A glob pattern matching s literally (SCAN's MATCH).
local function glob_quote(s)
	return (string.gsub(s, '[%*%?%[%]\\]', '\\%0'))
end

-- strays ROUTING CURSOR SCAN MAX BYTES: SCAN from CURSOR (about SCAN keys)
-- for backlog keys whose segment the routing has not. Returns
-- STRAYS_REPLY: the next cursor, done (1: the scan is over), then up to
-- MAX of their leads (fewer once they hold BYTES bytes), best first, each
-- STRAY_FIELDS: the segment, the lead id and the lead as pushed ("" when
-- the record is gone). When a limit cut a backlog short, the cursor given
-- comes back: the caller moves these and looks again.
ops[OP.STRAYS] = function()
	load_routing(STRAYS.ROUTING)
	local cursor = op_arg(STRAYS.CURSOR)
	local max, budget = tonumber(op_arg(STRAYS.MAX)),
	    tonumber(op_arg(STRAYS.BYTES))
	local head = P .. K.BACKLOG
	local sc = redis.call('SCAN', cursor, 'MATCH', glob_quote(head) .. '*',
	    'COUNT', op_arg(STRAYS.SCAN))
	local out, n, taken, cut = {}, 0, 0, false
	for _, key in ipairs(sc[2]) do
		if cut then
			break
		end
		local seg = string.sub(key, #head + 1)
		if not R.segs[seg] and redis.call('TYPE', key).ok == 'zset' then
			local ids = redis.call('ZRANGE', key, 0, max - n)
			for _, id in ipairs(ids) do
				if n >= max or (n > 0 and taken >= budget) then
					cut = true
					break
				end
				local lead = redis.call('HGET', P .. K.LEAD .. id,
				    'lead') or ''
				local at = 1 + STRAYS_REPLY.ITEMS + n * STRAY_FIELDS
				out[at + STRAY.SEGMENT] = seg
				out[at + STRAY.ID] = id
				out[at + STRAY.LEAD] = lead
				n, taken = n + 1, taken + #lead
			end
		end
	end
	if cut then
		out[1 + STRAYS_REPLY.CURSOR] = cursor	-- look again
		out[1 + STRAYS_REPLY.DONE] = 0
	else
		out[1 + STRAYS_REPLY.CURSOR] = sc[1]
		out[1 + STRAYS_REPLY.DONE] = sc[1] == '0' and 1 or 0
	end
	return out
end

-- move ROUTING then MOVE_ITEM items: move each lead from the backlog of
-- FROM (a segment the routing has not) to the backlog of TO (one it has),
-- keeping its place (score), and set its record's segment; the drain then
-- assigns it. A lead no longer waiting in FROM is skipped; a stale entry
-- (the lead is not waiting) is dropped. Returns 1 (moved) or 0 per item.
ops[OP.MOVE] = function()
	load_routing(MOVE.ROUTING)
	local out = {}
	for a = 1 + SCRIPT.ARGS + MOVE.ITEMS, #ARGV, MOVE_ITEM_FIELDS do
		local from, id = ARGV[a + MOVE_ITEM.FROM], ARGV[a + MOVE_ITEM.ID]
		local to = ARGV[a + MOVE_ITEM.TO]
		local fk, lk = P .. K.BACKLOG .. from, P .. K.LEAD .. id
		local score = redis.call('ZSCORE', fk, id)
		local moved = 0
		if score and not R.segs[from] and R.segs[to] then
			redis.call('ZREM', fk, id)
			if redis.call('HGET', lk, 'status') == 'backlog' then
				redis.call('ZADD', P .. K.BACKLOG .. to, score, id)
				redis.call('HSET', lk, 'segment', to)
				moved = 1
			end
		end
		out[#out + 1] = moved
	end
	return out
end
