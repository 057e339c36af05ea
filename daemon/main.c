/* main.c - leadrouted: the command line, start-up (wiring the modules together), reload and stop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>

#include "api.h"
#include "config.h"
#include "consumer.h"
#include "daemon.h"
#include "decide.h"
#include "drain.h"
#include "forecast.h"
#include "http.h"
#include "instance.h"
#include "intake_http.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "rds.h"
#include "reseg.h"
#include "scripts.h"
#include "sla.h"
#include "task.h"
#include "webhook.h"
#include "wire.h"

#ifndef LR_VERSION
#define LR_VERSION "0.1.0"
#endif
#ifndef LR_DEFAULT_CONF
#define LR_DEFAULT_CONF "/etc/leadrouted/leadrouted.conf"
#endif

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

/* The connections only some configurations need, opened once one does
 * (at start or at a reload): the webhook sender's (some endpoint) and
 * the replica acknowledgements' (replica_acks). */
static void
connect_optional(struct lrd *d)
{
	if (d->whc != NULL && !d->whc_started && d->cfg->nwebhooks > 0) {
		rds_start(d->whc);
		d->whc_started = true;
	}
	if (d->acks != NULL && !d->acks_started &&
	    d->cfg->redis.replica_acks > 0) {
		rds_start(d->acks);
		d->acks_started = true;
	}
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
		klen = strlen(cfg->redis.prefix) + sizeof(KEY_INCOMING);
		if ((key = malloc(klen)) == NULL ||
		    keys_build(key, klen, cfg->redis.prefix, LR_KEY_INCOMING,
		    NULL, NULL) == -1) {
			free(key);
			free(routing);
			return -1;
		}
		d->key = key;
	}
	cfg_free(d->cfg);
	free(d->routing);
	d->cfg = cfg;
	d->routing = routing;
	if (d->intake != NULL)
		intake_http_reload(d->intake, d->cfg);
	if (d->wh != NULL && webhook_configure(d->wh, cfg) == -1)
		return -1;
	connect_optional(d);
	if (d->leads != NULL && consumer_fit(d->leads) == -1)
		return -1;
	return 0;
}

/* The high-availability keys that need a restart (not replica_acks). */
static bool
same_ha(const struct lr_config *a, const struct lr_config *b)
{
	if (a->redis.nsentinels != b->redis.nsentinels ||
	    strcmp(a->redis.username, b->redis.username) != 0 ||
	    strcmp(a->redis.master_name, b->redis.master_name) != 0 ||
	    strcmp(a->redis.sentinel_username, b->redis.sentinel_username) != 0 ||
	    strcmp(a->redis.sentinel_password, b->redis.sentinel_password) != 0 ||
	    a->redis.cluster != b->redis.cluster)
		return false;
	for (size_t i = 0; i < a->redis.nsentinels; i++)
		if (strcmp(a->redis.sentinel_hosts[i],
		    b->redis.sentinel_hosts[i]) != 0 ||
		    a->redis.sentinel_ports[i] != b->redis.sentinel_ports[i])
			return false;
	return true;
}

static bool
same_redis(const struct lr_config *a, const struct lr_config *b)
{
	return strcmp(a->redis.host, b->redis.host) == 0 &&
	    a->redis.port == b->redis.port &&
	    strcmp(a->redis.unix_socket, b->redis.unix_socket) == 0 &&
	    strcmp(a->redis.password, b->redis.password) == 0 &&
	    a->redis.db == b->redis.db &&
	    strcmp(a->redis.prefix, b->redis.prefix) == 0 &&
	    same_ha(a, b);
}

/*
 * A reload took effect: every call built with the old configuration has
 * run (or was lost with its connection, and its work is requeued), so
 * from here on no lead can go where the new configuration forbids.
 */
static void
reloaded(struct lrd *d)
{
	d->stats.reloads_ok++;
	log_info("configuration '%s' loaded (version %s)", d->conf_path,
	    d->cfg->version);
	/* New reps or higher limits take waiting leads. */
	task_kick(d->drain);
	task_kick(d->forecast);
	/* Backlogs of segments it renamed or removed. */
	reseg_start(d->reseg);
	notify_send("READY=1");
}

static void
reload_barrier_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct lrd *d = arg;

	(void)conn;
	(void)reply;		/* NULL: lost with the connection, as the rest */
	if (!d->stopping)
		reloaded(d);
}

static void
reload(struct lrd *d)
{
	struct lr_config *cfg;
	const char *why;

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
	} else if (strcmp(d->cfg->intake.http.listen,
	    cfg->intake.http.listen) != 0) {
		d->stats.reloads_failed++;
		log_warnx("configuration '%s' changes intake.http.listen, which needs a restart; keeping version %s",
		    d->conf_path, d->cfg->version);
		cfg_free(cfg);
	} else if (d->wh != NULL && webhook_ready(d->wh, cfg, &why) == -1) {
		d->stats.reloads_failed++;
		log_warnx("configuration '%s' adds webhooks, but libcurl cannot be set up (%s); keeping version %s",
		    d->conf_path, why, d->cfg->version);
		cfg_free(cfg);
	} else if (apply_config(d, cfg) == -1) {
		d->stats.reloads_failed++;
		log_warnx("cannot apply configuration '%s': out of memory",
		    d->conf_path);
	} else {
		if (!d->debug)
			log_init((enum log_level)d->cfg->log.level, "leadrouted");
		/* Script calls already sent carry the old routing table: the
		 * reload counts as done once they have run, which a PING
		 * behind them on the same connection tells. */
		if (rds_up(d->cmd) && rds_commandf(d->cmd, reload_barrier_cb, d,
		    "PING") == 0)
			return;
		reloaded(d);
		return;
	}
	notify_send("READY=1");
}

/* --- wiring: what the modules tell each other ------------------------- */

static void
membership_cb(struct instance *in, enum instance_event ev, void *arg)
{
	struct lrd *d = arg;

	(void)in;
	switch (ev) {
	case INSTANCE_REGISTERED:
		consumer_kick(d->leads);
		consumer_kick(d->events);
		task_kick(d->sla);	/* what fell due while no one ran */
		task_kick(d->forecast);
		reseg_start(d->reseg);
		break;
	case INSTANCE_CHANGED:
		consumer_reset(d->leads);
		consumer_reset(d->events);
		break;
	case INSTANCE_RELEASED:
		event_base_loopbreak(d->base);
		break;
	}
}

/*
 * The command or the lease connection came up, or was lost. Either loss
 * makes a new instance (calls in the air may or may not have run: the
 * lease of the old one runs out and its work is requeued once); either
 * coming back loads the script there and renews or registers at once.
 */
static void
conn_state_cb(struct rds_conn *conn, bool up, void *arg)
{
	struct lrd *d = arg;

	if (up)
		(void)rds_script_load(conn, &d->script);
	instance_conn(d->inst, up);
	/* The lease may have come back first and been renewed meanwhile:
	 * a renewal says nothing, so what waits for the command connection
	 * is kicked here. */
	if (up && conn == d->cmd && instance_registered(d->inst))
		membership_cb(d->inst, INSTANCE_REGISTERED, d);
}

/* The sentinels switched the primary: the command connection follows at
 * once (the instance changes, and the consumers' connections with it). */
static void
switch_cb(const char *host, int port, void *arg)
{
	struct lrd *d = arg;

	rds_follow(d->cmd, host, port);
	rds_follow(d->lease, host, port);
	rds_follow(d->whc, host, port);
	rds_follow(d->acks, host, port);
}

static void
fenced_cb(struct consumer *c, const char *why, bool held, const char *blame,
    void *arg)
{
	struct lrd *d = arg;
	const struct rds_target on = {d->cmd, &d->script, d->key};

	(void)c;
	if (held)
		instance_give_back(d->inst, &on, why, blame);
	else
		instance_fence(d->inst, why, 0);
}

static bool
health_cb(char *why, size_t len, void *arg)
{
	const struct lrd *d = arg;
	const char *err = rds_last_error(d->cmd);

	if (!rds_up(d->cmd)) {
		snprintf(why, len, "redis unreachable: %s",
		    err[0] ? err : "connecting");
		return false;
	}
	return instance_ready(d->inst, why, len);
}

static void
view_cb(struct metrics_view *v, void *arg)
{
	const struct lrd *d = arg;

	memset(v, 0, sizeof(*v));
	v->cfg = d->cfg;
	v->routing = d->routing;
	v->local.redis_up = rds_up(d->cmd) && rds_up(d->lease);
	v->local.registered = instance_registered(d->inst) && rds_up(d->cmd);
	v->local.reconnects = rds_reconnects(d->cmd) +
	    rds_reconnects(d->lease) + consumer_reconnects(d->leads) +
	    consumer_reconnects(d->events);
	v->local.reloads_ok = d->stats.reloads_ok;
	v->local.reloads_failed = d->stats.reloads_failed;
	v->local.version = LR_VERSION;
	v->local.intake_http = d->intake != NULL;
	if (d->intake != NULL)
		intake_http_counts(d->intake, v->local.intake_http_requests);
	v->local.replica_ack_short = d->stats.replica_ack_short;
	v->local.replica_acks_last = d->stats.replica_acks_last;
	v->local.render_more = webhook_metrics;
	v->local.more_arg = d->wh;
}

static void
metrics_cb(http_body_cb *done, void *ctx, void *arg)
{
	struct lrd *d = arg;

	metrics_scrape(d->metrics, done, ctx);
}

/* --- signals and stop ------------------------------------------------- */

static struct event *stop_ev;

/* Wait for the work in the air (LRD_STOP_GRACE_MS at most), then release. */
static void
stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	static long long started;
	struct lrd *d = arg;
	struct timeval tv = {0, LRD_STOP_POLL_MS * 1000};
	bool idle = consumer_idle(d->leads) && consumer_idle(d->events) &&
	    intake_http_idle(d->intake) && webhook_idle(d->wh) &&
	    !instance_giving_back(d->inst);
	long long now = rds_mono_ms();

	(void)fd;
	(void)what;
	if (started == 0)
		started = now;
	if (!idle && rds_up(d->cmd) && now - started < LRD_STOP_GRACE_MS) {
		evtimer_add(stop_ev, &tv);
		return;
	}
	if (instance_release(d->inst) == -1)
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
	instance_stop(d->inst);
	intake_http_stop(d->intake);
	consumer_stop(d->leads);
	consumer_stop(d->events);
	task_stop(d->sla);
	task_stop(d->forecast);
	task_stop(d->drain);
	reseg_stop(d->reseg);
	webhook_stop(d->wh);
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

/* --- start-up --------------------------------------------------------- */

/* Create the modules and wire them together; fatal when one cannot be. */
static void
setup(struct lrd *d)
{
	struct rds_target to;
	const char *why;
	size_t klen = strlen(d->cfg->redis.prefix) + sizeof(KEY_REPLICA_ACK);
	char *acks_key;

	if ((acks_key = malloc(klen)) == NULL ||
	    keys_build(acks_key, klen, d->cfg->redis.prefix,
	    LR_KEY_REPLICA_ACK, NULL, NULL) == -1)
		fatalx("cannot set up: out of memory");
	d->ropts.host = d->cfg->redis.host;
	d->ropts.port = d->cfg->redis.port;
	d->ropts.unix_socket = d->cfg->redis.unix_socket;
	d->ropts.username = d->cfg->redis.username;
	d->ropts.password = d->cfg->redis.password;
	if (sentinel_set_init(&d->sentinels, d->cfg->redis.sentinel_hosts,
	    d->cfg->redis.sentinel_ports, d->cfg->redis.nsentinels,
	    d->cfg->redis.master_name, d->cfg->redis.sentinel_username,
	    d->cfg->redis.sentinel_password) == -1)
		fatalx("cannot set up: out of memory");
	d->ropts.sentinels = &d->sentinels;
	d->ropts.cluster = d->cfg->redis.cluster;
	d->ropts.db = d->cfg->redis.db;
	d->ropts.connect_timeout_ms = RDS_CONNECT_TIMEOUT_MS;
	d->ropts.reply_timeout_ms = RDS_REPLY_TIMEOUT_MS;
	d->script.body = lr_lua;
	d->script.len = lr_lua_len;

	if ((d->cmd = rds_new(d->base, &d->ropts, "commands", conn_state_cb,
	    d)) == NULL || (d->lease = rds_new(d->base, &d->ropts, "lease",
	    conn_state_cb, d)) == NULL)
		fatalx("cannot set up: out of memory");
	to.script = &d->script;
	to.key = d->key;
	to.conn = d->lease;
	if ((d->inst = instance_new(d->base, &to, d->cfg->redis.prefix,
	    membership_cb, d)) == NULL)
		fatalx("cannot set up: out of memory");
	to.conn = d->cmd;
	if ((d->leads = consumer_new(d, KEY_INCOMING, fenced_cb, d)) == NULL ||
	    (d->events = consumer_new(d, KEY_EVENTS, fenced_cb, d)) == NULL ||
	    (d->sla = task_new(d->base, &to, &sla_task, d)) == NULL ||
	    (d->forecast = task_new(d->base, &to, &forecast_task, d)) == NULL ||
	    (d->drain = task_new(d->base, &to, &drain_task, d)) == NULL ||
	    (d->reseg = reseg_new(d, &to)) == NULL ||
	    (d->metrics = metrics_new(&to, view_cb, d)) == NULL ||
	    (d->whc = rds_new(d->base, &d->ropts, "webhooks", NULL,
	    NULL)) == NULL ||
	    (d->acks = rds_new(d->base, &d->ropts, "replica acks", NULL,
	    NULL)) == NULL || rds_wait_mark(d->acks, acks_key) == -1 ||
	    (d->wh = webhook_new(d->base, &(const struct rds_target){d->whc,
	    &d->script, d->key}, d->cfg->redis.prefix)) == NULL)
		fatalx("cannot set up: out of memory");
	free(acks_key);
	if (webhook_ready(d->wh, d->cfg, &why) == -1)
		fatalx("cannot set up libcurl for the webhooks: %s", why);
	if (webhook_configure(d->wh, d->cfg) == -1 ||
	    consumer_fit(d->leads) == -1)
		fatalx("cannot set up: out of memory");
	task_start(d->sla);
	task_start(d->forecast);
	if ((d->watch = rds_watch_new(d->base, &d->sentinels, switch_cb,
	    d)) == NULL)
		fatalx("cannot set up: out of memory");
}

/* Serve /healthz, /metrics, the read API and the ops page when
 * http.listen is set. */
static void
setup_http(struct lrd *d)
{
	const struct http_service svc = {health_cb, metrics_cb, d, api_route};
	const struct rds_target to = {d->cmd, &d->script, d->key};
	char err[300];

	if (d->cfg->http.host == NULL)
		return;
	if ((d->api = api_new(d, &to)) == NULL)
		fatalx("http: cannot set up the read API: out of memory");
	if ((d->http = http_new(d->base, d->cfg->http.host, d->cfg->http.port,
	    &svc, err, sizeof(err))) == NULL)
		fatalx("http: %s", err);
	log_info("http: listening on '%s' (/healthz, /metrics, the ops page /, the read API /v1/)",
	    d->cfg->http.listen);
	if (d->cfg->http.nauth > 0)
		log_info("http: the ops page and the read API need basic authentication ('%s', %zu users)",
		    d->cfg->http.auth_file, d->cfg->http.nauth);
}

/* Take leads over HTTP when intake.http.listen is set. */
static void
setup_intake_http(struct lrd *d)
{
	char err[300];

	if (d->cfg->intake.http.host == NULL)
		return;
	if ((d->intake = intake_http_new(d->base, d->cfg, &d->ropts, d->key,
	    err, sizeof(err))) == NULL)
		fatalx("intake http: %s", err);
	log_info("intake http: listening on '%s' (POST /v1/leads, %zu tokens)",
	    d->cfg->intake.http.listen, d->cfg->intake.http.ntokens);
	intake_http_start(d->intake);
}

static int
run(struct lrd *d)
{
	struct event *sigs[3], *ready;
	const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
	struct timeval zero = {0, 0};

	setup(d);
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signos[i], signal_cb, d);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot set up signal %d", signos[i]);
	}
	stop_ev = evtimer_new(d->base, stop_poll_cb, d);
	ready = evtimer_new(d->base, ready_cb, d);
	if (stop_ev == NULL || ready == NULL)
		fatalx("cannot set up timers");
	setup_http(d);
	setup_intake_http(d);
	instance_start(d->inst);
	task_start(d->drain);
	webhook_start(d->wh);
	event_add(ready, &zero);
	rds_start(d->cmd);
	rds_start(d->lease);
	connect_optional(d);
	rds_watch_start(d->watch);

	event_base_dispatch(d->base);

	log_info("stopped");
	http_free(d->http);
	intake_http_free(d->intake);
	rds_watch_free(d->watch);
	/* Calls in the air get their NULL reply while their owners live;
	 * a WAIT lost on the acks connection tries the command one. */
	rds_free(d->acks);
	rds_free(d->cmd);
	rds_free(d->lease);
	rds_free(d->whc);
	api_free(d->api);
	consumer_free(d->leads);
	consumer_free(d->events);
	task_free(d->sla);
	task_free(d->forecast);
	task_free(d->drain);
	reseg_free(d->reseg);
	metrics_free(d->metrics);
	webhook_free(d->wh);
	instance_free(d->inst);
	sentinel_set_clear(&d->sentinels);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
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

#ifdef __GLIBC__
	/* Large buffers (big payloads, their replies and commits) come from
	 * mmap and go back to the system when freed: a burst of large
	 * payloads does not leave the daemon's RSS grown. A fixed threshold
	 * also stops glibc raising it after the first such free. */
	mallopt(M_MMAP_THRESHOLD, LRD_MMAP_THRESHOLD);
#endif
	gettimeofday(&tv, NULL);
	srandom((unsigned)(tv.tv_sec ^ tv.tv_usec ^ getpid()));
	signal(SIGPIPE, SIG_IGN);

	memset(&d, 0, sizeof(d));
	d.debug = debug;
	d.stats.replica_acks_last = -1;
	d.conf_path = strdup(conf);
	if ((d.base = event_base_new()) == NULL || d.conf_path == NULL)
		fatalx("cannot create the event loop");
	if (apply_config(&d, cfg) == -1)
		fatalx("cannot set up: out of memory");
	log_info("leadrouted %s starting; configuration '%s' (version %s), %zu reps, %zu segments",
	    LR_VERSION, conf, cfg->version, cfg->nreps, cfg->segments.n);

	rc = run(&d);

	cfg_free(d.cfg);
	free(d.routing);
	free(d.key);
	free(d.conf_path);
	event_base_free(d.base);
	return rc;
}
