# Makefile - build, test, install and run leadrouted (see README.md).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man

ifeq ($(origin CC),default)
CC = gcc
endif
CFLAGS   ?= -O2 -g
WARNINGS  = -std=c11 -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	    -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 \
	    -Wvla -fno-common
# libcurl's headers only: daemon/core/curlso.c loads the library itself
# when a webhook needs it (include/curlso.h).
PKGS      = libevent hiredis libconfig jansson libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
DEFS      = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	    -DLR_DEFAULT_CONF='"$(SYSCONFDIR)/leadrouted/leadrouted.conf"'
ALL_CFLAGS = $(WARNINGS) $(DEFS) -Iinclude $(PKG_CFLAGS) $(CFLAGS)

ifneq ($(SANITIZER),)
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZER)
endif

# The test build: sanitizers on, warnings are errors.
TEST_CFLAGS = $(WARNINGS) $(DEFS) -Iinclude -Itests $(PKG_CFLAGS) -O1 -g \
	      -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
	      -fno-omit-frame-pointer
TEST_LDFLAGS = -fsanitize=address,undefined

# Debian packages the build, the tests and `make run` need.
DEBS = gcc make pkg-config libevent-dev libhiredis-dev libconfig-dev \
       libcmocka-dev libjansson-dev redis-server redis-tools \
       clang libclang-rt-14-dev valgrind tzdata libssl-dev curl \
       libcurl4-openssl-dev openssl
# The ops page's browser test (tests/browser/) and the webhook tests'
# receiver (tests/webhooks/).
DEBS += chromium nodejs
# The TLS recipe of README "High availability" (itest_ha).
DEBS += stunnel4

CORE    = log config config_read config_cond config_plan config_cal config_keys calendar match score segment lead event decide plan sources calib config_intake intake_req
CORE   += sid
CORE   += config_webhooks whmsg curlso
DAEMON  = main rds instance task consumer sla forecast drain reseg http metrics notify intake_http lr_lua $(CORE)
DAEMON += api sse web_index
DAEMON += webhook
CTL     = leadctl ctl_common ctl_send ctl_status ctl_lead ctl_alerts ctl_plan ctl_sources ctl_calibrate ctl_calendar ctl_inbox $(CORE)
CTL    += ctl_webhooks
UNIT    = match score segment lead config calendar event decide plan sources calib wire metrics intake_req
UNIT   += sid
UNIT   += whmsg curlso
# Sentinel discovery (README "High availability"): the daemon and leadctl.
DAEMON += sentinel
CTL    += sentinel
# Where a cluster's MOVED/ASK and Sentinel's +switch-master send us.
CORE   += redir
UNIT   += redir
# A command in RESP (rds.c's script calls), byte for byte as hiredis's.
CORE   += resp
UNIT   += resp
SRC_DEPS = $(wildcard include/*.h) Makefile

B  = build
BT = build/test

# Where the sources live (README "Layout"): the daemon's event-loop modules
# in daemon/, the pure modules in daemon/core/, leadctl in daemon/ctl/.
vpath %.c daemon daemon/core daemon/ctl

.PHONY: all test check test-run unit itest deps run install uninstall clean
# Keep the objects of test binaries between runs.
.SECONDARY:

all: $(B)/leadrouted $(B)/leadctl

$(B)/obj/%.o: %.c $(SRC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The Lua script: the parts of daemon/lua/ in the order LUA_PARTS lists,
# with the names of include/keys.h and include/wire.h inlined by
# daemon/lua/wire2lua.c (built for and run on the build machine), compiled
# in as one C string: one script, one SHA. build/gen/wire.lua lists the
# names as Lua tables.
HOSTCC   ?= $(CC)
LUA_PARTS = prelude claim deliver outbox calendar reps inflight lazy_begin \
	    events sla forecast stats reseg read lazy_end dispatch
LUA_SRC   = $(LUA_PARTS:%=daemon/lua/%.lua)

$(B)/gen/wire2lua: daemon/lua/wire2lua.c include/keys.h include/wire.h
	@mkdir -p $(@D)
	$(HOSTCC) $(WARNINGS) -Iinclude -o $@ $<

$(B)/gen/wire.lua: $(B)/gen/wire2lua
	$(B)/gen/wire2lua -t > $@.tmp && mv $@.tmp $@

$(B)/gen/lr.lua: $(B)/gen/wire2lua $(LUA_SRC) Makefile
	$(B)/gen/wire2lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

# The test build's script: tests/fault.lua first, every redis.call of
# the parts turned into its lr_call (a write that fails on demand). The
# release script has no hook and reads no key of it.
$(BT)/gen/lr.lua: $(B)/gen/wire2lua tests/fault.lua $(LUA_SRC) Makefile
	@mkdir -p $(@D)
	$(B)/gen/wire2lua tests/fault.lua $(LUA_SRC) > $@.raw && \
	    sed 's/redis\.call(/lr_call(/g' $@.raw > $@.tmp && mv $@.tmp $@

%/gen/lr_lua.c: %/gen/lr.lua
	@{ echo '/* generated from $(LUA_SRC); do not edit */'; \
	  echo '#include "scripts.h"'; echo 'const char lr_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; echo 'const size_t lr_lua_len = sizeof(lr_lua) - 1;'; } > $@

$(B)/obj/lr_lua.o: $(B)/gen/lr_lua.c include/scripts.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BT)/obj/lr_lua.o: $(BT)/gen/lr_lua.c include/scripts.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

# The ops page, built in as one C string (include/web.h); '?' escaped so
# that no JavaScript "??" makes a C trigraph.
$(B)/gen/web_index.c: daemon/web/index.html Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated from daemon/web/index.html; do not edit */'; \
	  echo '#include "web.h"'; echo 'const char web_index_html[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' \
	    -e 's/$$/\\n"/' $<; \
	  echo ';'; echo 'const size_t web_index_html_len = sizeof(web_index_html) - 1;'; } > $@.tmp && mv $@.tmp $@

$(B)/obj/web_index.o: $(B)/gen/web_index.c include/web.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BT)/obj/web_index.o: $(B)/gen/web_index.c include/web.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(B)/leadrouted: $(DAEMON:%=$(B)/obj/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/leadctl: $(CTL:%=$(B)/obj/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# --- tests -----------------------------------------------------------------

$(BT)/obj/%.o: %.c $(SRC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(BT)/tobj/%.o: tests/%.c $(SRC_DEPS) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(BT)/leadrouted: $(DAEMON:%=$(BT)/obj/%.o)
	$(CC) $(TEST_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BT)/leadctl: $(CTL:%=$(BT)/obj/%.o)
	$(CC) $(TEST_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BT)/test_%: $(BT)/tobj/test_%.o $(CORE:%=$(BT)/obj/%.o)
	$(CC) $(TEST_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# test_wire checks keys.h, wire.h and the names wire2lua gives the Lua.
$(BT)/test_wire: $(BT)/tobj/test_wire.o $(B)/gen/wire.lua $(B)/gen/lr.lua
	$(CC) $(TEST_LDFLAGS) -o $@ $< $(CMOCKA_LIBS)

# metrics.c is an event-loop module: its test also links it, and rds.o for
# its scrape.
$(BT)/test_metrics: $(BT)/obj/metrics.o $(BT)/obj/rds.o
$(BT)/test_metrics: $(BT)/obj/sentinel.o

UNIT_BINS = $(UNIT:%=$(BT)/test_%)

# Integration tests: the real binary against a private redis-server.
ITEST   = routing ops intake events reliability sla leadctl faults bounds atomic calendar httpin
# The ops page's test runs tests/browser/web.mjs: its npm packages first.
ITEST  += web
ITEST  += ha
ITEST  += webhooks
ITEST_BINS = $(ITEST:%=$(BT)/itest_%)

$(BT)/itest_%: $(BT)/tobj/itest_%.o $(BT)/tobj/harness.o $(BT)/tobj/checker.o
	$(CC) $(TEST_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# itest_calendar runs daemon/lua/calendar.lua against calendar.c's lists.
$(BT)/itest_calendar: $(BT)/obj/calendar.o

# playwright-core and eventsource as tests/browser/package-lock.json pins
# them (npm ci); no browser is downloaded: the test drives Debian's
# /usr/bin/chromium.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BT)/itest_web: | tests/browser/node_modules/.package-lock.json

# The webhook tests' receiver checks every signature with the npm package
# standardwebhooks, pinned by tests/webhooks/package-lock.json. npm comes
# with Node (NodeSource's nodejs provides it; with Debian's, apt install npm:
# it is not in DEBS, as it conflicts with NodeSource's package).
WH_NODE = tests/webhooks/node_modules/.package-lock.json

$(WH_NODE): tests/webhooks/package.json tests/webhooks/package-lock.json
	cd tests/webhooks && npm ci --no-audit --no-fund
	@touch $@

$(BT)/itest_webhooks: | $(WH_NODE)

# The README's test command: install what is missing, build, run everything.
test check: deps
	@$(MAKE) --no-print-directory test-run

test-run: check-layout $(UNIT_BINS) $(ITEST_BINS) $(BT)/leadrouted $(BT)/leadctl all fuzz-short $(WH_NODE)
	@tests/run-tests.sh $(BT)/itest_faults \
	    $(filter-out $(BT)/itest_faults,$(ITEST_BINS)) $(UNIT_BINS)

# daemon/core/ is pure: no event loop, no hiredis, not even through a
# header it includes (README "Layout"). gcc -M lists every header a file
# pulls in.
.PHONY: check-layout
check-layout:
	@bad=""; for f in daemon/core/*.c; do \
		$(CC) -M $(DEFS) -Iinclude $(PKG_CFLAGS) $$f | \
		    grep -qE '(event2|hiredis)/' && bad="$$bad $$f"; \
	done; \
	if [ -n "$$bad" ]; then \
		echo "check-layout: daemon/core/ must not include event2/ or hiredis/:$$bad"; \
		exit 1; \
	fi; echo "check-layout: daemon/core/ includes neither event2/ nor hiredis/"

itest: $(ITEST_BINS) $(BT)/leadrouted $(BT)/leadctl all $(WH_NODE)
	@tests/run-tests.sh $(ITEST_BINS)

unit: $(UNIT_BINS)
	@tests/run-tests.sh $(UNIT_BINS)

# --- set-up ----------------------------------------------------------------

# Install only the missing Debian packages, non-interactively.
deps:
	@missing=""; \
	for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends $$missing </dev/null; \
	fi

# The README's first command: set up, build, run the daemon on the example config.
run: deps
	@$(MAKE) --no-print-directory all
	@tests/tools/run-local.sh conf/leadrouted.conf

# --- install ---------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/leadrouted
	install -m 755 $(B)/leadrouted $(DESTDIR)$(SBINDIR)/leadrouted
	install -m 755 $(B)/leadctl $(DESTDIR)$(BINDIR)/leadctl
	[ -e $(DESTDIR)$(SYSCONFDIR)/leadrouted/leadrouted.conf ] || \
	    install -m 644 conf/leadrouted.conf $(DESTDIR)$(SYSCONFDIR)/leadrouted/leadrouted.conf
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 644 daemon/man/leadctl.1 $(DESTDIR)$(MANDIR)/man1/leadctl.1
	install -m 644 daemon/man/leadrouted.conf.5 $(DESTDIR)$(MANDIR)/man5/leadrouted.conf.5
	install -m 644 daemon/man/leadrouted.8 $(DESTDIR)$(MANDIR)/man8/leadrouted.8
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/leadrouted.service > $(DESTDIR)$(UNITDIR)/leadrouted.service
	chmod 644 $(DESTDIR)$(UNITDIR)/leadrouted.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/leadrouted $(DESTDIR)$(BINDIR)/leadctl \
	    $(DESTDIR)$(UNITDIR)/leadrouted.service \
	    $(DESTDIR)$(MANDIR)/man1/leadctl.1 \
	    $(DESTDIR)$(MANDIR)/man5/leadrouted.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/leadrouted.8

clean:
	rm -rf $(B)

# --- bench -----------------------------------------------------------------

# `make bench` (tests/bench/): the release daemon against a private
# redis-server, redis-benchmark as the reference. Prints the table, writes
# build/bench/results.json and the table in tests/bench/RESULTS.md.
$(B)/bench/bench: tests/bench/bench.c Makefile
	@mkdir -p $(@D)
	$(CC) $(WARNINGS) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O2 -g \
	    -pthread $$(pkg-config --cflags libevent hiredis jansson libconfig) \
	    -o $@ $< $$(pkg-config --libs libevent hiredis jansson libconfig) -lm

# The bench's peer: BullMQ as tests/bench/peer/package-lock.json pins it,
# installed (npm ci) into build/bench/peer with peer.mjs beside it.
BENCH_PEER = $(B)/bench/peer/node_modules/.package-lock.json $(B)/bench/peer/peer.mjs

$(B)/bench/peer/node_modules/.package-lock.json: tests/bench/peer/package.json tests/bench/peer/package-lock.json
	@mkdir -p $(B)/bench/peer
	cp tests/bench/peer/package.json tests/bench/peer/package-lock.json $(B)/bench/peer/
	cd $(B)/bench/peer && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(B)/bench/peer/peer.mjs: tests/bench/peer/peer.mjs
	@mkdir -p $(@D)
	cp $< $@

.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory all || { \
	    echo "bench: 'make all' failed; building $(B)/leadrouted only"; \
	    $(MAKE) --no-print-directory $(B)/leadrouted; }
	@$(MAKE) --no-print-directory $(B)/bench/bench
	@$(MAKE) --no-print-directory $(BENCH_PEER) || \
	    echo "bench: the BullMQ peer could not be installed (npm); its part is skipped"
	$(B)/bench/bench -d $(B)/leadrouted -c conf/leadrouted.conf \
	    -w $(B)/bench -o $(B)/bench/results.json -r tests/bench/RESULTS.md \
	    -P $(B)/bench/peer

# Before/after on this machine, whose speed drifts more than most changes:
# `make bench-ab VS=/path/to/other/leadrouted` runs the throughput and
# webhooks-on parts with build/leadrouted (A) and VS (B) alternately, 3
# rounds, and prints both medians and the median of the rounds' B/A
# ratios (RESULTS.md is not touched). A VS from another commit:
#   git worktree add /tmp/base REV && make -C /tmp/base build/leadrouted
.PHONY: bench-ab
bench-ab: deps
	@test -n "$(VS)" || { echo "bench-ab: set VS=/path/to/other/leadrouted"; exit 2; }
	@$(MAKE) --no-print-directory $(B)/leadrouted $(B)/bench/bench
	$(B)/bench/bench -d $(B)/leadrouted -B $(VS) -p tput,hooks \
	    -c conf/leadrouted.conf -w $(B)/bench -o $(B)/bench/ab.json

# --- fuzzing and valgrind --------------------------------------------------

# libFuzzer targets (clang) on the pure modules: lead parsing and scoring,
# events, the configuration, the HTTP intake request, stream ids, cluster
# redirects, what webhook delivery parses (whmsg). `make fuzz` runs each
# for FUZZ_SECONDS on a copy of its seed corpus (tests/fuzz/corpus/X) in build/fuzz/corpus-X;
# findings are written to build/fuzz/ and fail the run. `make test` runs
# `fuzz-short`.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 8
FUZZ_CFLAGS   = $(WARNINGS) $(DEFS) -Iinclude -Itests/fuzz $(PKG_CFLAGS) \
		-O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SAN      = address,undefined
# NAME:MAX_LEN. lead and event decide with intake limits of 4096 and 2048
# bytes, so their max_len reaches too_large; config holds the example;
# intake (the HTTP intake's request decision) has a limit of 1024.
FUZZ_TARGETS  = lead:8192 event:4096 config:16384 intake:2048
# sid: the alert stream's Last-Event-ID (daemon/core/sid.c).
FUZZ_TARGETS += sid:64
FUZZ_TARGETS += redir:512
FUZZ_TARGETS += whmsg:4096
BF = build/fuzz
FUZZ_BINS = $(foreach t,$(FUZZ_TARGETS),$(BF)/fuzz_$(firstword $(subst :, ,$(t))))

$(BF)/obj/%.o: %.c $(SRC_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(BF)/tobj/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(SRC_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(BF)/fuzz_%: $(BF)/tobj/fuzz_%.o $(BF)/tobj/fuzz_common.o $(CORE:%=$(BF)/obj/%.o)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)

.PHONY: fuzz fuzz-short test-valgrind
fuzz: $(FUZZ_BINS)
	@tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short: $(FUZZ_BINS)
	@tests/fuzz/run-fuzz.sh $(FUZZ_SHORT_SECONDS) $(FUZZ_TARGETS)

# The daemon without sanitizers, under valgrind memcheck, for the
# integration tests (tests/valgrind-leadrouted.sh): no error, no definite
# leak in any daemon process.
BV = build/valgrind
VALGRIND_CFLAGS = $(WARNINGS) $(DEFS) -Iinclude $(PKG_CFLAGS) -O1 -g
# All but the fault-injection soak (itest_faults): its kill -9 and SIGTERM
# under load and hostile volume rely on timing bounds that a daemon 20-50
# times slower misses (a SIGTERM can land before valgrind has started it).
VALGRIND_ITEST_BINS = $(filter-out $(BT)/itest_faults,$(ITEST_BINS))
# itest_ha too: its failovers race Sentinel's timers (down-after 1000 ms).
VALGRIND_ITEST_BINS := $(filter-out $(BT)/itest_ha,$(VALGRIND_ITEST_BINS))
# A process killed by a test (kill -9) writes no summary: its errors count.
VALGRIND_BAD = ERROR SUMMARY: [1-9]|definitely lost: [1-9]|== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)

$(BV)/obj/%.o: %.c $(SRC_DEPS)
	@mkdir -p $(@D)
	$(CC) $(VALGRIND_CFLAGS) -c -o $@ $<

$(BV)/obj/lr_lua.o: $(B)/gen/lr_lua.c include/scripts.h
	@mkdir -p $(@D)
	$(CC) $(VALGRIND_CFLAGS) -c -o $@ $<

$(BV)/obj/web_index.o: $(B)/gen/web_index.c include/web.h
	@mkdir -p $(@D)
	$(CC) $(VALGRIND_CFLAGS) -c -o $@ $<

$(BV)/leadrouted: $(DAEMON:%=$(BV)/obj/%.o)
	$(CC) -o $@ $^ $(PKG_LIBS)

test-valgrind: deps
	@$(MAKE) --no-print-directory $(BV)/leadrouted $(VALGRIND_ITEST_BINS) \
	    $(BT)/leadctl all
	@rm -rf $(BV)/logs && mkdir -p $(BV)/logs
	@LEADROUTED_BIN=tests/valgrind-leadrouted.sh LR_VALGRIND_DIR=$(BV) \
	    tests/run-tests.sh $(VALGRIND_ITEST_BINS); rc=$$?; \
	bad=$$(grep -lE '$(VALGRIND_BAD)' $(BV)/logs/*.log); \
	echo "valgrind: $$(ls $(BV)/logs | wc -l) daemon processes, $$(echo $$bad | wc -w) with errors or definite leaks"; \
	for f in $$bad; do echo "  $$f:"; grep -E '$(VALGRIND_BAD)' $$f; done; \
	[ $$rc -eq 0 ] && [ -z "$$bad" ]

# --- soak ----------------------------------------------------------------------
# The fault scenarios of tests/itest_faults.c, longer: 100 kill -9 in a
# 100,000-lead stream (1 and 3 instances), 100 connection kills, 50 SCRIPT
# FLUSH, Redis down 60 s... Results in build/test/reliability-soak-*.
.PHONY: soak
soak: $(BT)/itest_faults $(BT)/leadrouted $(BT)/leadctl all
	@LR_SOAK=1 tests/run-tests.sh $(BT)/itest_faults

# The failover scenarios of tests/itest_ha.c at the issue's full size
# (10,000 leads each).
.PHONY: soak-ha
soak: soak-ha
soak-ha: $(BT)/itest_ha $(BT)/leadrouted $(BT)/leadctl all
	@LR_SOAK=1 tests/run-tests.sh $(BT)/itest_ha
