-- stats.lua - what /metrics reports from shared state, in one read (the metrics operation).

-- The most fields one source has in src:all: its stages and the buckets
-- of its follow-up histogram.
local function source_fields_max()
	return 8 + #R.hist.followup + 1
end

-- "SOURCE|what" -> SOURCE, what; nil when the field is not a counter.
local function source_field(f)
	return string.match(f, '^(.+)|([^|]*)$')
end

-- Fold src:all back within bounds when it holds more sources than
-- R.max_sources (as a daemon without that bound left it): keep the
-- largest R.max_sources by leads received, add the others' counters to
-- OTHER's, and make K.SRC_NAMES the names kept. Runs once, in Redis, so
-- that no scrape carries an unbounded hash to the daemon's event loop.
local function fold_sources()
	local key = P .. K.SRC_ALL
	local all = redis.call('HGETALL', key)
	local recv, names, keep, kept = {}, {}, {}, {}
	for i = 1, #all, 2 do
		local name, what = source_field(all[i])
		if name and name ~= OTHER then
			if not recv[name] then
				recv[name] = 0
				names[#names + 1] = name
			end
			if what == 'received' then
				recv[name] = recv[name] + (tonumber(all[i + 1]) or 0)
			end
		end
	end
	table.sort(names, function(a, b)
		if recv[a] ~= recv[b] then
			return recv[a] > recv[b]
		end
		return a < b
	end)
	for i = 1, math.min(#names, R.max_sources) do
		keep[names[i]] = true
		kept[i] = names[i]
	end
	local other, gone = {}, {}
	for i = 1, #all, 2 do
		local name, what = source_field(all[i])
		if name and name ~= OTHER and not keep[name] then
			other[what] = (other[what] or 0) + (tonumber(all[i + 1]) or 0)
			gone[#gone + 1] = all[i]
		end
	end
	push_all('HDEL', key, gone)
	for what, v in pairs(other) do
		redis.call('HINCRBY', key, OTHER .. '|' .. what, v)
	end
	redis.call('DEL', P .. K.SRC_NAMES)
	push_all('SADD', P .. K.SRC_NAMES, kept)
end

-- metrics ROUTING: returns METRICS_REPLY: stats as field/value pairs,
-- backlog size per segment (seg_order), per rep (rep_order) METRICS_REP
-- (open, assignments in the period, available 1/0), incoming, events,
-- dead, pending SLA timers, live instances, per-source counters as
-- field/value pairs, the forecast hash as field/value pairs.
ops[OP.METRICS] = function()
	load_routing(METRICS.ROUTING)
	local backlog, reps = {}, {}
	for _, seg in ipairs(R.seg_order) do
		backlog[#backlog + 1] = redis.call('ZCARD', P .. K.BACKLOG .. seg)
	end
	for i, r in ipairs(R.rep_order) do
		local at = 1 + (i - 1) * METRICS_REP_FIELDS
		reps[at + METRICS_REP.OPEN] = redis.call('SCARD',
		    rep_key(r, KT.REP_OPEN))
		reps[at + METRICS_REP.PERIOD] = redis.call('ZCOUNT',
		    rep_key(r, KT.REP_WINDOW), '(' .. fmt(NOW - R.period), '+inf')
		reps[at + METRICS_REP.AVAILABLE] = redis.call('HGET',
		    rep_key(r, KT.REP), 'status') == 'away' and 0 or 1
	end
	local out = {}
	out[1 + METRICS_REPLY.STATS] = redis.call('HGETALL', P .. K.STATS)
	out[1 + METRICS_REPLY.BACKLOG] = backlog
	out[1 + METRICS_REPLY.REPS] = reps
	out[1 + METRICS_REPLY.INCOMING] = redis.call('LLEN', P .. K.INCOMING)
	out[1 + METRICS_REPLY.EVENTS] = redis.call('LLEN', P .. K.EVENTS)
	out[1 + METRICS_REPLY.DEAD] = redis.call('LLEN', P .. K.DEAD)
	out[1 + METRICS_REPLY.SLA_DUE] = redis.call('ZCARD', P .. K.SLA_DUE)
	out[1 + METRICS_REPLY.INSTANCES] = redis.call('ZCARD', P .. K.INSTANCES)
	if redis.call('HLEN', P .. K.SRC_ALL) >
	    (R.max_sources + 1) * source_fields_max() then
		fold_sources()
	end
	out[1 + METRICS_REPLY.SOURCES] = redis.call('HGETALL', P .. K.SRC_ALL)
	out[1 + METRICS_REPLY.FORECAST] = redis.call('HGETALL', P .. K.FORECAST)
	return out
end
