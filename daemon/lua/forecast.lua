-- forecast.lua - the capacity forecast: per segment, the MQL arrival rate against the room reps have left, and its alerts (the forecast operation).

local RATE_STEP_MS = 1000	-- the rate is updated at most this often
local NO_ROOM = 1e-9		-- less room left than this is none
local EPISODE_START_MQLS = 1	-- an episode needs this many MQLs expected
local EPISODE_END_MQLS = 0.5	-- it ends when fewer are expected,
local EPISODE_END_FACTOR = 1.25	-- or room lasts this x the horizon
local S_PER_HOUR = 3600

-- Is a rep with config c on shift at some time within horizon_ms from
-- now (always, without a calendar)?
local function rep_shift_within(c, horizon_ms)
	if not c[3] then
		return true
	end
	local l = cal_list(c[3])
	if cal_open_at(l, NOW) then
		return true
	end
	local nc = cal_next_change(l, NOW)
	return nc >= 0 and nc < NOW + horizon_ms
end

-- A rep's room for new leads: what is left under both limits; 0 when away
-- or off shift all through the horizon (horizon_ms).
local function rep_room(r, horizon_ms)
	local c = R.reps[r]
	local s = rep_state(r)
	if not c or s.status == 'away' or not rep_shift_within(c, horizon_ms) then
		return 0
	end
	return limits_room(c, s)
end

local function fnum(x)
	return string.format('%.6g', x)
end

-- forecast ROUTING HORIZON_MS HALF_LIFE_MS: per segment, update the MQL
-- arrival rate (an exponentially weighted moving average of the mql:SEG
-- counter whose weights halve every HALF_LIFE_MS), weigh it against the
-- room the segment's available reps (on shift at some time within
-- HORIZON_MS) have left (a rep of several segments
-- shares its room among them in proportion to their rates), less the
-- segment's backlog, and fire one capacity_forecast alert per episode when
-- that room runs out within HORIZON_MS (0: no alerts) and at least
-- EPISODE_START_MQLS are expected within it (a segment without room but
-- without arrivals keeps no lead waiting). An episode ends when the time
-- to exhaustion is back above EPISODE_END_FACTOR x HORIZON_MS, or fewer
-- than EPISODE_END_MQLS are expected within it: the margins keep a segment
-- at the edge from alerting again and again.
-- State, in the hash forecast: SEG|n, SEG|t (the counter and time of the
-- last update), SEG|rate (MQLs/s), SEG|room, SEG|backlog, SEG|eta (seconds
-- until the room is used up, -1 for never), SEG|at (time of the forecast),
-- SEG|episode (at_ms of the episode's alert, while it lasts), SEG|ended
-- (episodes ended so far: a segment never has more alerts than that + 1).
-- Returns the alerts fired, as "capacity_forecast segment=.. ..." lines.
ops[OP.FORECAST] = function()
	load_routing(FORECAST.ROUTING)
	local horizon = tonumber(op_arg(FORECAST.HORIZON_MS)) / 1000
	local hl = tonumber(op_arg(FORECAST.HALF_LIFE_MS)) / 1000
	local fk = P .. K.FORECAST
	local rate, share, room, fired, fields = {}, {}, {}, {}, {}

	for i, seg in ipairs(R.seg_order) do
		fields[i] = 'mql:' .. seg
	end
	if #fields == 0 then
		return fired
	end
	local counts = redis.call('HMGET', P .. K.STATS, unpack(fields))

	for i, seg in ipairs(R.seg_order) do
		local h = redis.call('HMGET', fk, seg .. '|n', seg .. '|t',
		    seg .. '|rate')
		local count = tonumber(counts[i]) or 0
		local n, t, r = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]) or 0
		-- First look, or the counters were reset: count from now.
		local update = not n or not t or count < n or t > NOW
		if not update and NOW - t >= RATE_STEP_MS then
			local dt = (NOW - t) / 1000
			local alpha = 1 - math.exp(-dt * math.log(2) / hl)
			r = r + alpha * ((count - n) / dt - r)
			update = true
		end
		if update then
			redis.call('HSET', fk, seg .. '|n', count, seg .. '|t', NOW,
			    seg .. '|rate', string.format('%.17g', r))
		end
		rate[seg], share[seg], room[seg] = r, 0, 0
	end
	for _, r in ipairs(R.rep_order) do
		local segs = rep_segments(r, nil)
		local free = #segs > 0 and rep_room(r, horizon * 1000) or 0
		if free > 0 then
			local total = 0
			for _, seg in ipairs(segs) do
				total = total + rate[seg]
			end
			for _, seg in ipairs(segs) do
				room[seg] = room[seg] + free
				if total > 0 then
					share[seg] = share[seg] + free * rate[seg] / total
				else
					share[seg] = share[seg] + free / #segs
				end
			end
		end
	end
	for _, seg in ipairs(R.seg_order) do
		local backlog = redis.call('ZCARD', P .. K.BACKLOG .. seg)
		local left, r = math.max(share[seg] - backlog, 0), rate[seg]
		local eta, expected = -1, r * horizon	-- MQLs within the horizon
		if left < NO_ROOM then
			eta = 0
		elseif r > 0 then
			eta = left / r
		end
		redis.call('HSET', fk, seg .. '|room', room[seg], seg .. '|backlog',
		    backlog, seg .. '|eta', fnum(eta), seg .. '|at', NOW)
		local open = redis.call('HGET', fk, seg .. '|episode')
		if horizon > 0 and expected >= EPISODE_START_MQLS and eta >= 0 and
		    eta < horizon then
			if not open then
				local per_hour = fnum(r * S_PER_HOUR)
				redis.call('HSET', fk, seg .. '|episode', NOW)
				publish_alert('{"type":"capacity_forecast","segment":' ..
				    q(seg) .. ',"room":' .. fmt(room[seg]) ..
				    ',"backlog":' .. fmt(backlog) ..
				    ',"mql_per_hour":' .. per_hour ..
				    ',"exhausted_in_s":' .. fmt(math.floor(eta)) ..
				    ',"horizon_s":' .. fmt(horizon) ..
				    ',"at_ms":' .. fmt(NOW) .. '}')
				stat(name2('forecast_alert:', seg))
				fired[#fired + 1] = 'capacity_forecast segment=' .. seg ..
				    ' room=' .. fmt(room[seg]) .. ' backlog=' ..
				    fmt(backlog) .. ' mql_per_hour=' .. per_hour ..
				    ' exhausted_in_s=' .. fmt(math.floor(eta))
			end
		elseif open and (horizon == 0 or expected < EPISODE_END_MQLS or
		    eta < 0 or eta > horizon * EPISODE_END_FACTOR) then
			redis.call('HDEL', fk, seg .. '|episode')
			redis.call('HINCRBY', fk, seg .. '|ended', 1)
		end
	end
	flush_stats()
	return fired
end
