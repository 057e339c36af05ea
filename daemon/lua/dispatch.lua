-- dispatch.lua - lr.lua's end: run the operation the call names.

local name = ARGV[1 + SCRIPT.OP]
if not ops[name] then
	load_lazy()	-- an operation of the parts lazy_begin.lua names
end
local f = ops[name]
if not f then
	return redis.error_reply('ERR leadrouted: unknown operation ' .. tostring(name))
end
return f()
