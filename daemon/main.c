/* main.c - leadrouted: command line, configuration, and the daemon's lifecycle on one event loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "decide.h"
#include "log.h"
#include "notify.h"
#include "rds.h"
#include "scripts.h"
#include "forecast.h"
#include "sla.h"

#ifndef LR_VERSION
#define LR_VERSION "0.1.0"
#endif
#ifndef LR_DEFAULT_CONF
#define LR_DEFAULT_CONF "/etc/leadrouted/leadrouted.conf"
#endif

#define DRAIN_MS 1000
#define STOP_POLL_MS 50
#define STOP_GRACE_MS 10000

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: leadrouted [-dnV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       log debug messages\n"
	    "  -n       check the configuration, print \"configuration OK\" or the errors, exit\n"
	    "  -V       print the version and exit\n",
	    LR_DEFAULT_CONF);
}

/* Load a configuration; log its diagnostics (never the password). */
static struct lr_config *
load_config(const char *path, bool to_stderr)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load(path, &diag);

	for (size_t i = 0; i < diag.nwarnings; i++) {
		if (to_stderr)
			fprintf(stderr, "%s (warning)\n", diag.warnings[i]);
		else
			log_warnx("%s", diag.warnings[i]);
	}
	for (size_t i = 0; i < diag.nerrors; i++) {
		if (to_stderr)
			fprintf(stderr, "%s\n", diag.errors[i]);
		else
			log_warnx("%s", diag.errors[i]);
	}
	cfg_diag_clear(&diag);
	return cfg;
}

long long
lrd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
lrd_key(const struct lrd *d, char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s%s", d->cfg->redis.prefix, name);
	return buf;
}

static void
new_instance_id(struct lrd *d)
{
	char host[64];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == ':' || *p == ' ')
			*p = '-';
	snprintf(d->instance, sizeof(d->instance), "%s-%ld-%u-%08lx", host,
	    (long)getpid(), d->generation, (unsigned long)random());
}

/* --- fleet membership --------------------------------------------------- */

static void heartbeat(struct lrd *d, bool reg);

static void
heartbeat_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct lrd *d = arg;
	bool was_registered = d->registered;

	(void)conn;
	d->heartbeat_pending = false;
	if (reply == NULL || d->stopping)
		return;
	if (d->hb_generation != d->generation) {
		heartbeat(d, true);	/* it renewed the instance we were */
		return;
	}
	if (reply->type == REDIS_REPLY_STATUS || reply->type ==
	    REDIS_REPLY_STRING) {
		if (strcmp(reply->str, "fenced") == 0) {
			lrd_fenced(d, "its lease ran out and its work was requeued");
			return;
		}
		d->registered = true;
		if (!was_registered) {
			log_info("instance '%s' registered; routing leads from '%sincoming'",
			    d->instance, d->cfg->redis.prefix);
			notify_send("STATUS=routing leads");
			consumer_kick(d->leads);
			consumer_kick(d->events);
			sla_kick(d->sla);	/* what fell due while no one ran */
			forecast_kick(d->forecast);
		}
		return;
	}
	log_warnx("heartbeat of instance '%s' failed: %s", d->instance,
	    reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
}

static void
heartbeat(struct lrd *d, bool reg)
{
	struct rds_argv *a = &d->hb_args;	/* lives until the reply */

	if (d->heartbeat_pending || !rds_up(d->cmd))
		return;
	rds_argv_clear(a);
	if (rds_argv_adds(a, "heartbeat") == -1 ||
	    rds_argv_adds(a, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->instance) == -1 ||
	    rds_argv_addll(a, LRD_LEASE_MS) == -1 ||
	    rds_argv_adds(a, reg ? "register" : "renew") == -1)
		return;
	if (rds_script(d->cmd, &d->script, d->key, a, heartbeat_cb, d) == 0) {
		d->heartbeat_pending = true;
		d->hb_generation = d->generation;
	}
}

void
lrd_fenced(struct lrd *d, const char *why)
{
	char old[sizeof(d->instance)];

	snprintf(old, sizeof(old), "%s", d->instance);
	d->registered = false;
	d->generation++;
	new_instance_id(d);
	log_warnx("instance '%s' stops: %s; continuing as '%s'", old, why,
	    d->instance);
	consumer_reset(d->leads);
	consumer_reset(d->events);
	if (!d->stopping)
		heartbeat(d, true);
}

static void
heartbeat_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lrd *d = arg;

	(void)fd;
	(void)what;
	if (!d->stopping)
		heartbeat(d, !d->registered);
	/* The loop is alive; Redis being down is not a reason to restart. */
	if (notify_watchdog_ms() > 0)
		notify_send("WATCHDOG=1");
}

static void
cmd_state_cb(struct rds_conn *conn, bool up, void *arg)
{
	struct lrd *d = arg;

	if (up) {
		(void)rds_script_load(conn, &d->script);
		d->heartbeat_pending = false;
		heartbeat(d, true);
		return;
	}
	/* Commands sent on the lost connection may still run on the server;
	 * become a new instance and let the old one's lease run out, so that
	 * what it held is requeued exactly once. */
	d->heartbeat_pending = false;
	if (!d->stopping) {
		d->registered = false;
		d->generation++;
		new_instance_id(d);
		consumer_reset(d->leads);
		consumer_reset(d->events);
	}
	notify_send("STATUS=waiting for redis");
}

/* --- backlog drain -------------------------------------------------------- */

static void
drain_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct rds_argv *a = arg;

	(void)conn;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer > 0)
		log_info("backlog drained: assigned=%lld", reply->integer);
	else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("backlog drain failed: %s", reply->str);
	rds_argv_clear(a);
	free(a);
}

static void
drain(struct lrd *d)
{
	struct rds_argv *a;

	if (!d->registered || d->stopping || !rds_up(d->cmd))
		return;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	if (rds_argv_adds(a, "drain") == -1 ||
	    rds_argv_adds(a, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->routing) == -1 ||
	    rds_script(d->cmd, &d->script, d->key, a, drain_cb, a) == -1) {
		rds_argv_clear(a);
		free(a);
	}
}

static void
drain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

/* --- configuration ------------------------------------------------------ */

static int
apply_config(struct lrd *d, struct lr_config *cfg)
{
	char *routing, *key = NULL;
	size_t klen;

	if ((routing = decide_routing_json(cfg)) == NULL)
		return -1;
	/* The key stays: script calls in the air point to it, and a reload
	 * cannot change the prefix. */
	if (d->key == NULL) {
		klen = strlen(cfg->redis.prefix) + sizeof("incoming");
		if ((key = malloc(klen)) == NULL) {
			free(routing);
			return -1;
		}
		snprintf(key, klen, "%sincoming", cfg->redis.prefix);
		d->key = key;
	}
	cfg_free(d->cfg);
	free(d->routing);
	d->cfg = cfg;
	d->routing = routing;
	if (d->leads != NULL && consumer_fit(d->leads) == -1)
		return -1;
	return 0;
}

static bool
same_redis(const struct lr_config *a, const struct lr_config *b)
{
	return strcmp(a->redis.host, b->redis.host) == 0 &&
	    a->redis.port == b->redis.port &&
	    strcmp(a->redis.unix_socket, b->redis.unix_socket) == 0 &&
	    strcmp(a->redis.password, b->redis.password) == 0 &&
	    a->redis.db == b->redis.db &&
	    strcmp(a->redis.prefix, b->redis.prefix) == 0;
}

static void
reload(struct lrd *d)
{
	struct lr_config *cfg;

	notify_send("RELOADING=1");
	log_info("reloading configuration '%s'", d->conf_path);
	if ((cfg = load_config(d->conf_path, false)) == NULL) {
		d->stats.reloads_failed++;
		log_warnx("configuration '%s' has errors; keeping version %s",
		    d->conf_path, d->cfg->version);
	} else if (!same_redis(d->cfg, cfg)) {
		d->stats.reloads_failed++;
		log_warnx("configuration '%s' changes redis settings, which need a restart; keeping version %s",
		    d->conf_path, d->cfg->version);
		cfg_free(cfg);
	} else if (strcmp(d->cfg->http.listen, cfg->http.listen) != 0) {
		d->stats.reloads_failed++;
		log_warnx("configuration '%s' changes http.listen, which needs a restart; keeping version %s",
		    d->conf_path, d->cfg->version);
		cfg_free(cfg);
	} else if (apply_config(d, cfg) == -1) {
		d->stats.reloads_failed++;
		log_warnx("cannot apply configuration '%s': out of memory",
		    d->conf_path);
	} else {
		if (!d->debug)
			log_init((enum log_level)d->cfg->log.level, "leadrouted");
		d->stats.reloads_ok++;
		log_info("configuration '%s' loaded (version %s)",
		    d->conf_path, d->cfg->version);
		drain(d);	/* new reps or higher limits take waiting leads */
		forecast_kick(d->forecast);
	}
	notify_send("READY=1");
}

/* --- signals and stop ------------------------------------------------------ */

static struct event *stop_ev;

static void
release_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct lrd *d = arg;

	(void)conn;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		log_info("instance '%s' released; %lld unfinished payloads requeued",
		    d->instance, reply->integer);
	event_base_loopbreak(d->base);
}

static void
stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	static long long started;
	struct rds_argv *args;
	struct lrd *d = arg;
	struct timeval tv = {0, STOP_POLL_MS * 1000};
	bool idle = consumer_idle(d->leads) && consumer_idle(d->events);

	(void)fd;
	(void)what;
	if (started == 0)
		started = lrd_now_ms();
	if (!idle && rds_up(d->cmd) && lrd_now_ms() - started < STOP_GRACE_MS) {
		evtimer_add(stop_ev, &tv);
		return;
	}
	args = &d->stop_args;
	rds_argv_clear(args);
	if (!rds_up(d->cmd) || !d->registered ||
	    rds_argv_adds(args, "release") == -1 ||
	    rds_argv_adds(args, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(args, d->instance) == -1 ||
	    rds_script(d->cmd, &d->script, d->key, args, release_cb, d) == -1)
		event_base_loopbreak(d->base);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct lrd *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping)
		return;
	log_info("received %s; stopping", sig == SIGTERM ? "SIGTERM" :
	    "SIGINT");
	notify_send("STOPPING=1");
	d->stopping = true;
	consumer_stop(d->leads);
	consumer_stop(d->events);
	sla_stop(d->sla);
	forecast_stop(d->forecast);
	evtimer_del(d->heartbeat_ev);
	evtimer_del(d->drain_ev);
	stop_poll_cb(-1, 0, d);
}

static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("READY=1");
}

static int
run(struct lrd *d)
{
	struct event *sigs[3], *ready;
	const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
	struct timeval hb = {LRD_HEARTBEAT_MS / 1000,
	    (LRD_HEARTBEAT_MS % 1000) * 1000};
	struct timeval dr = {DRAIN_MS / 1000, (DRAIN_MS % 1000) * 1000};
	struct timeval zero = {0, 0};

	d->ropts.host = d->cfg->redis.host;
	d->ropts.port = d->cfg->redis.port;
	d->ropts.unix_socket = d->cfg->redis.unix_socket;
	d->ropts.password = d->cfg->redis.password;
	d->ropts.db = d->cfg->redis.db;
	d->ropts.connect_timeout_ms = 3000;
	d->ropts.reply_timeout_ms = 10000;
	d->script.body = lr_lua;
	d->script.len = lr_lua_len;
	new_instance_id(d);

	if ((d->cmd = rds_new(d->base, &d->ropts, "commands", cmd_state_cb,
	    d)) == NULL ||
	    (d->leads = consumer_new(d, "incoming")) == NULL ||
	    (d->events = consumer_new(d, "events")) == NULL ||
	    (d->sla = sla_new(d)) == NULL ||
	    (d->forecast = forecast_new(d)) == NULL ||
	    consumer_fit(d->leads) == -1)
		fatalx("cannot set up: out of memory");
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signos[i], signal_cb, d);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot set up signal %d", signos[i]);
	}
	d->heartbeat_ev = event_new(d->base, -1, EV_PERSIST,
	    heartbeat_timer_cb, d);
	d->drain_ev = event_new(d->base, -1, EV_PERSIST, drain_timer_cb, d);
	stop_ev = evtimer_new(d->base, stop_poll_cb, d);
	ready = evtimer_new(d->base, ready_cb, d);
	if (d->heartbeat_ev == NULL || d->drain_ev == NULL || stop_ev == NULL ||
	    ready == NULL)
		fatalx("cannot set up timers");
	if (d->cfg->http.host != NULL) {
		char err[300];

		if ((d->http = http_new(d, d->cfg->http.host, d->cfg->http.port,
		    err, sizeof(err))) == NULL)
			fatalx("http: %s", err);
		log_info("http: listening on '%s' (/healthz, /metrics)",
		    d->cfg->http.listen);
	}
	event_add(d->heartbeat_ev, &hb);
	event_add(d->drain_ev, &dr);
	event_add(ready, &zero);
	rds_start(d->cmd);

	event_base_dispatch(d->base);

	log_info("stopped");
	http_free(d->http);
	consumer_free(d->leads);
	consumer_free(d->events);
	sla_free(d->sla);
	forecast_free(d->forecast);
	rds_free(d->cmd);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_free(d->heartbeat_ev);
	event_free(d->drain_ev);
	event_free(stop_ev);
	event_free(ready);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *conf = LR_DEFAULT_CONF;
	struct lrd d;
	struct lr_config *cfg;
	struct timeval tv;
	bool check = false, debug = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:dhnV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'n':
			check = true;
			break;
		case 'V':
			printf("leadrouted %s\n", LR_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (check) {
		if ((cfg = load_config(conf, true)) == NULL)
			return 1;
		printf("configuration OK\n");
		cfg_free(cfg);
		return 0;
	}

	log_init(debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "leadrouted");
	if ((cfg = load_config(conf, false)) == NULL)
		fatalx("configuration '%s' has errors; not starting", conf);
	if (!debug)
		log_init((enum log_level)cfg->log.level, "leadrouted");

	gettimeofday(&tv, NULL);
	srandom((unsigned)(tv.tv_sec ^ tv.tv_usec ^ getpid()));
	signal(SIGPIPE, SIG_IGN);

	memset(&d, 0, sizeof(d));
	d.debug = debug;
	d.conf_path = strdup(conf);
	if ((d.base = event_base_new()) == NULL || d.conf_path == NULL)
		fatalx("cannot create the event loop");
	if (apply_config(&d, cfg) == -1)
		fatalx("cannot set up: out of memory");
	log_info("leadrouted %s starting; configuration '%s' (version %s), %zu reps, %zu segments",
	    LR_VERSION, conf, cfg->version, cfg->nreps, cfg->segments.n);

	rc = run(&d);

	rds_argv_clear(&d.hb_args);
	rds_argv_clear(&d.stop_args);
	cfg_free(d.cfg);
	free(d.routing);
	free(d.key);
	free(d.conf_path);
	event_base_free(d.base);
	return rc;
}
