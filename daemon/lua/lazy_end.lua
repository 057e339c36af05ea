-- lazy_end.lua - the end of load_lazy (lazy_begin.lua).
end
