-- calendar.lua - business hours in the script: the arithmetic of calendar.h's interval lists (open at, next change, add open time), with exactly its semantics, on the lists the routing table carries.
--
-- The daemon expands each calendar the configuration uses into absolute
-- UTC open intervals over a window around its clock (decide.c,
-- decide_routing_json) and hands them over in the routing table as
-- R.cal[NAME] = {from, to, start1, end1, start2, end2, ...} (ms, sorted,
-- disjoint, touching ones merged). A window [from, to) says what is known:
-- outside it the list answers "closed" and "no change", as the C does
-- (cal_ivals_open_at, cal_ivals_next_change, cal_ivals_add_open).
-- This part uses no key name or wire word: itest_calendar runs it alone
-- in Redis against the C on many instants.

local CAL_HORIZON_S = 1461 * 86400	-- calendar.h CAL_HORIZON_DAYS

local function cal_in_window(l, t)
	return t >= l[1] and t < l[2]
end

-- Is list l open at t (ms)?
local function cal_open_at(l, t)
	if not cal_in_window(l, t) then
		return false
	end
	for i = 3, #l, 2 do
		if l[i] > t then
			break
		end
		if t < l[i + 1] then
			return true
		end
	end
	return false
end

-- The first instant after t at which l opens or closes; -1 when none is
-- within the window (or t is outside it).
local function cal_next_change(l, t)
	if not cal_in_window(l, t) then
		return -1
	end
	for i = 3, #l, 2 do
		local s, e = l[i], l[i + 1]
		if e > t then
			if s > t then
				return s
			end
			if e < l[2] then
				return e
			end
			return -1
		end
	end
	return -1
end

-- The first instant at which secs seconds of open time have passed since
-- t (t closed: counting starts at the next opening); -1 when that lies
-- beyond the window (or t is outside it, or secs < 0).
local function cal_add_open(l, t, secs)
	if not cal_in_window(l, t) or secs < 0 or secs > CAL_HORIZON_S then
		return -1
	end
	local left = secs * 1000
	for i = 3, #l, 2 do
		local s, e = l[i], l[i + 1]
		if e > t then
			if s < t then
				s = t
			end
			if left <= e - s then
				return s + left
			end
			left = left - (e - s)
		end
	end
	return -1
end

-- The instant at which secs seconds of open time have passed since t in
-- the clock of list l (nil: always open). Where the window does not
-- reach (t outside it, or the time runs past its end) the clock counts
-- as open: an alert may then come early, never not at all. The daemon
-- makes the windows long enough that only a calendar with less than
-- sla.follow_up of open time in a year, or a Redis clock a day away from
-- the daemon's, gets there (README "Business hours").
local function cal_due(l, t, secs)
	if not l then
		return t + secs * 1000
	end
	local r = cal_add_open(l, t, secs)
	if r >= 0 then
		return r
	end
	if not cal_in_window(l, t) then
		return t + secs * 1000
	end
	local left = secs * 1000
	for i = 3, #l, 2 do
		local s, e = l[i], l[i + 1]
		if e > t then
			left = left - (e - math.max(s, t))
		end
	end
	return l[2] + math.max(left, 0)
end
