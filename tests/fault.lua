-- fault.lua - the test build's script only: fail the script at a chosen write (itest_atomic).
--
-- The Makefile puts this part first in build/test/gen/lr.lua and turns
-- every redis.call of the other parts into lr_call; the release script
-- has neither, and reads no key of it. When the key PREFIX .. "test:fault"
-- holds "OP N", the N-th write of the next call of operation OP deletes
-- the key and raises an error instead: the writes before it stay, as
-- Redis leaves them after any script error. "OP 1 OOM" makes the error
-- an OOM refusal, as Redis gives a script before its first write when it
-- is out of memory. "OP CMD" (a command's name in capitals) fails the
-- call's first write of that command instead, wherever it falls. After
-- "OP N", " sK" lets the next K calls of OP pass first, " xK" fails K
-- calls of OP in turn (each at its N-th write), then deletes the key, and
-- " OK" makes the last K of those OOM refusals.

local fault_call = redis['call']	-- written so to escape the renaming
local fault_at, fault_cmd, fault_oom, fault_n, fault_key = nil, nil,
    false, 0, ARGV[1 + SCRIPT.PREFIX] .. 'test:fault'
local fault_left = ''			-- the key's text after this call's fault
local FAULT_WRITES = {HSET = true, HSETNX = true, HDEL = true,
    HINCRBY = true, SADD = true, SREM = true, ZADD = true, ZREM = true,
    ZREMRANGEBYSCORE = true, LPUSH = true, RPUSH = true, RPOP = true,
    DEL = true, EXPIRE = true, PUBLISH = true, XADD = true}

do
	local spec = fault_call('GET', fault_key)
	if spec then
		local op, n, rest = string.match(spec, '^(%S+) (%d+)(.*)$')
		if op == ARGV[1 + SCRIPT.OP] then
			local skip = tonumber(string.match(rest, ' s(%d+)')) or 0
			local times = tonumber(string.match(rest, ' x(%d+)')) or 1
			local last = tonumber(string.match(rest, ' O(%d+)'))
			local kind = string.find(rest, ' OOM') and ' OOM' or
			    (last and ' O' .. last or '')
			if skip > 0 then
				fault_call('SET', fault_key, op .. ' ' .. n .. kind ..
				    ' x' .. times .. ' s' .. (skip - 1))
			else
				fault_at = tonumber(n)
				fault_oom = kind == ' OOM' or
				    (last ~= nil and times <= last)
				if times > 1 then
					fault_left = op .. ' ' .. n .. kind .. ' x' ..
					    (times - 1)
				end
			end
		end
		local cop, cmd = string.match(spec, '^(%S+) (%u+)$')
		if cop == ARGV[1 + SCRIPT.OP] then
			fault_cmd = cmd
		end
	end
end

local function lr_call(cmd, ...)
	local c = (fault_at or fault_cmd) and string.upper(cmd)
	if c and FAULT_WRITES[c] then
		fault_n = fault_n + 1
		if fault_n == fault_at or c == fault_cmd then
			if fault_left ~= '' then
				fault_call('SET', fault_key, fault_left)
			else
				fault_call('DEL', fault_key)
			end
			if fault_oom then
				error({err = 'OOM leadrouted test fault at write ' ..
				    fault_n})
			end
			error('leadrouted test fault at write ' .. fault_n)
		end
	end
	return fault_call(cmd, ...)
end
