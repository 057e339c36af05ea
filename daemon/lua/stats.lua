-- stats.lua - what /metrics reports from shared state, in one read (the metrics operation).

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
	out[1 + METRICS_REPLY.SOURCES] = redis.call('HGETALL', P .. K.SRC_ALL)
	out[1 + METRICS_REPLY.FORECAST] = redis.call('HGETALL', P .. K.FORECAST)
	return out
end
