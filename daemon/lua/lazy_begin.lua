-- lazy_begin.lua - the parts from here to lazy_end.lua (events, sla, forecast, stats, reseg, read) are made only by a call that runs one of their operations.
--
-- Redis runs the whole script at every call: each of its local functions
-- is made anew (a closure, and an upvalue found for each outer local it
-- uses), some 40 µs per call for all of them. The claim, the commit, the
-- heartbeat and the drain (the parts before this one) need none of the
-- functions of the parts that follow; dispatch.lua runs load_lazy() only
-- for an operation those define. Their locals are load_lazy's.

local function load_lazy()
