-- claim.lua - the claim: queued payloads into an instance's in-flight hash; run as soon as this part is made.

-- The in-flight hash of an instance's source, and its wait list.
local function inflight_keys(inst, src)
	local part = inst .. KEY_SEP .. src
	return P .. K.INFLIGHT .. part .. KT.INFLIGHT,
	    P .. K.INFLIGHT_WAIT .. part .. KT.INFLIGHT_WAIT
end

-- A payload of more than max bytes, all ASCII, is too_large and need not
-- travel to the daemon and back: the claim sends its length instead
-- (CLAIMED.OVERSIZE) and the commit writes its dead letter from the
-- in-flight copy (KIND.DEAD_RAW), so the daemon's memory stays bounded
-- whatever arrives. (Other oversize payloads need the daemon's UTF-8
-- check and base64.)
local function oversize(v, max)
	return #v > max and not string.find(v, '[\128-\255]')
end

-- The claim's first RPOP takes CLAIM_CHUNK payloads, the next ones twice as
-- many up to CLAIM_CHUNK_MAX: a batch costs a few pops instead of one per
-- payload. The part of a chunk past the byte budget goes back to the
-- queue, so the claim keeps its budget; only the script holds, for a
-- moment, at most one chunk more than it takes.
local CLAIM_CHUNK, CLAIM_CHUNK_MAX = 4, 32

-- claim INSTANCE SOURCE MAX SEQ BYTES MAX_BYTES: move up to MAX payloads
-- from the queue into the instance's in-flight hash under SEQ, SEQ+1...,
-- stopping once BYTES bytes are taken (always at least one payload; the
-- wait list is taken whole). Returns CLAIM_REPLY: the time of the claim,
-- then CLAIMED items (payload, sha1 or "", redeliveries, oversize),
-- oldest first.
ops[OP.CLAIM] = function()
	local inst, src = op_arg(CLAIM.INSTANCE), op_arg(CLAIM.SOURCE)
	local n, seq = tonumber(op_arg(CLAIM.MAX)), tonumber(op_arg(CLAIM.SEQ))
	local budget = tonumber(op_arg(CLAIM.BYTES))
	local max = tonumber(op_arg(CLAIM.MAX_BYTES))
	if not redis.call('ZSCORE', P .. K.INSTANCES, inst) then
		return redis.error_reply(ERR.FENCED .. ' instance ' .. inst ..
		    ' is not registered')
	end
	local h, w = inflight_keys(inst, src)
	local items, taken = {}, 0
	local wl = redis.call('LRANGE', w, 0, -1)
	for i = #wl, 1, -1 do
		items[#items + 1] = wl[i]
		taken = taken + #wl[i]
	end
	if #wl > 0 then
		redis.call('DEL', w)
	end
	local chunk = CLAIM_CHUNK
	while #items < n and (taken < budget or #items == 0) do
		local want = math.min(chunk, n - #items)
		local got = redis.call('RPOP', P .. src, want)
		if not got then
			break
		end
		local j = 1
		while j <= #got and (taken < budget or #items == 0) do
			items[#items + 1] = got[j]
			taken = taken + #got[j]
			j = j + 1
		end
		if j <= #got then
			local back = {}
			for k = #got, j, -1 do
				back[#back + 1] = got[k]
			end
			redis.call('RPUSH', P .. src, unpack(back))
			break
		end
		if #got < want then
			break
		end
		chunk = math.min(chunk * 2, CLAIM_CHUNK_MAX)
	end
	local out = {}
	out[1 + CLAIM_REPLY.TIME] = NOW
	if #items == 0 then
		return out
	end
	local hs = {}
	for i, v in ipairs(items) do
		hs[#hs + 1] = fmt(seq + i - 1)
		hs[#hs + 1] = v
	end
	push_all('HSET', h, hs)
	local check = redis.call('HLEN', P .. K.REDELIVERIES) > 0
	for i, v in ipairs(items) do
		local sha, c = '', 0
		if check then
			local s = redis.sha1hex(v)
			c = tonumber(redis.call('HGET', P .. K.REDELIVERIES, s)) or 0
			if c > 0 then
				sha = s
			end
		end
		local at = 1 + CLAIM_REPLY.ITEMS + (i - 1) * CLAIMED_FIELDS
		local big = oversize(v, max)
		out[at + CLAIMED.PAYLOAD] = big and '' or v
		out[at + CLAIMED.SHA] = sha
		out[at + CLAIMED.REDELIVERIES] = c
		out[at + CLAIMED.OVERSIZE] = big and #v or 0
	end
	return out
end

-- The claim is the call a consumer makes most (at low load two for each
-- lead: the one that takes it and the one its own pop's invalidation
-- wakes) and needs nothing of the parts after this one. Redis runs the
-- whole script at every call, and making their ~90 functions, each
-- finding its upvalues along the list of open ones, costs ~25 us: a
-- claim returns before it (an empty one costs ~11 us instead of ~31).
if ARGV[1 + SCRIPT.OP] == OP.CLAIM then
	return ops[OP.CLAIM]()
end
