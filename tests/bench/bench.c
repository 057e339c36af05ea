/* bench.c - `make bench`: leadrouted's throughput, latency and SLA-timer scale on a private redis-server, against redis-benchmark. */
/*
 * What it does, in order, each part on a fresh redis-server (AOF on,
 * appendfsync everysec, hash-max-listpack-value BENCH_LP_VALUE: README
 * "Performance" says which settings the figures assume) on a free loopback
 * port under the work directory:
 *
 *  ref   redis-benchmark LPUSH and RPOP with -P 1 and -P 32: the ceiling.
 *  tput  N realistic leads pre-loaded on lr:incoming, then 1 (and then 2)
 *        daemon instances started; the time until every lead is committed,
 *        Redis commands per lead (INFO commandstats, commands run by
 *        scripts included), Redis and daemon CPU per lead, peak RSS.
 *  hooks the throughput run once more (1 instance) with one webhook
 *        endpoint for lead.assigned, signed (Standard Webhooks), sent to a
 *        receiver the bench forks (libevent's evhttp, 200 at once): the
 *        time until every lead is committed and until every delivery is
 *        acknowledged, Redis and daemon CPU per lead over both, against
 *        the runs without webhooks (issue #18: "with them on and off").
 *  lat   leads pushed at 1,000 and 10,000 per second, one LPUSH each,
 *        paced on a 1 ms tick, each with its push time (CLOCK_REALTIME, µs)
 *        in the field "bench_t_us"; a subscriber to lr:assignments takes
 *        the arrival time minus the push time of every assigned lead.
 *        BENCH_LAT_DUMP=1 in the environment writes every sample (push
 *        time, latency, Redis's assigned_at_ms minus push time) to
 *        <work>/lat-<rate>.txt.
 *  sla   1,000,000 leads assigned (pushed pipelined while one daemon
 *        routes them) and none followed up; daemon RSS and Redis memory
 *        per lead; then the daemon stopped, 100,000 deadlines made
 *        overdue, the daemon restarted: time to the first alert and to
 *        the last.
 *
 * Each part also measures how much CPU other processes took meanwhile
 * (/proc/stat minus ours), since a busy machine makes every number worse.
 *
 * The daemon runs on a configuration generated from the example one (its
 * scoring, segments and reps), with the Redis port rewritten, HTTP off,
 * capacity that never blocks and, for the SLA part, a follow-up time long
 * enough that nothing fires while loading. Every child process is stopped
 * by its PID, also on failure; children die with the bench
 * (PR_SET_PDEATHSIG).
 *
 * Output: markdown tables on stdout, the results as JSON (-o), and, after
 * a full run, the generated section of RESULTS.md (-r) between its markers.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libconfig.h>

/* The targets (a 2-core machine): issue #18's, and the earlier ones it keeps. */
#define T_LEADS_PER_S 50000.0
#define T_CMDS_PER_LEAD 8.0
#define T_P99_1K_MS 1.0
#define T_P99_10K_MS 5.0
#define T_SLA_RSS_KB (8L * 1024)
#define T_FIRST_ALERT_MS 1000.0
#define T_REDIS_US_PER_LEAD 16.0
#define T_PEER_RATIO 12.0
#define T_BYTES_PER_LEAD 1331.0	/* 1.3 KB */
#define NTARGETS 9

#define PUSH_CHUNK 500		/* leads per pipelined LPUSH */
#define PUSH_PIPELINE 8		/* LPUSHes in the air while pre-loading */
#define STALL_LIMIT_S 30	/* no lead committed for this long fails the part */
#define MAX_CHILDREN 8
#define MAX_CMDSTATS 256
#define NTOP 10
#define STOP_CHANNEL_MSG "bench-stop"
#define BENCH_NICE (-10)	/* ahead of other work on a shared machine */
#define TPUT_RUNS 3		/* runs of the 1-instance throughput part: the spread */

/* --- options and global state ------------------------------------------- */

static struct {
	const char *daemon_bin;
	const char *vs_bin;	/* -B: the build to compare with, or NULL */
	bool json_set;		/* -o given */
	const char *conf_in;
	const char *work;
	const char *json_out;
	const char *results_md;
	const char *parts;
	bool quick;
	long tput_leads;
	long lat_secs;
	long lat_warmup_ms;
	long sla_leads;
	long sla_overdue;
	long bench_n;
	long peer_leads;
	const char *peer_dir;
	char prefix[64];
} opt = {
	.daemon_bin = "build/leadrouted",
	.conf_in = "conf/leadrouted.conf",
	.work = "build/bench",
	.json_out = "build/bench/results.json",
	.results_md = NULL,
	.parts = "ref,tput,hooks,peer,lat,sla",
	.tput_leads = 100000,
	.lat_secs = 20,
	.lat_warmup_ms = 1000,
	.sla_leads = 1000000,
	.sla_overdue = 100000,
	.bench_n = 200000,
	.peer_leads = 20000,
	.peer_dir = "build/bench/peer",
	.prefix = "lr:",
};

static volatile pid_t children[MAX_CHILDREN];
static void loadavg(char *out, size_t len);
static int mql_threshold = 60;	/* scoring.mql_threshold, read from the config */

static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress on stderr, so that stdout holds only the tables. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* --- child processes ---------------------------------------------------- */

static void
track(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			return;
		}
}

static void
untrack(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static void
kill_children(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
}

static void
on_signal(int sig)
{
	(void)sig;
	kill_children();	/* kill and waitpid are async-signal-safe */
	_exit(130);
}

/* fork and exec argv, stdout and stderr appended to log_path. */
static pid_t
spawn(const char *const argv[], const char *log_path)
{
	pid_t pid = fork();
	int fd;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	track(pid);
	return pid;
}

/* Send sig, wait up to ms for the exit, then SIGKILL. The exit status. */
static int
stop_pid(pid_t pid, int sig, long ms)
{
	long long until = mono_us() + ms * 1000LL;
	int status = 0;
	pid_t p;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	while ((p = waitpid(pid, &status, WNOHANG)) == 0) {
		if (mono_us() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		sleep_ms(5);
	}
	untrack(pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static bool
alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* --- /proc ---------------------------------------------------------------- */

/* utime + stime of a live process, in seconds. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After "pid (comm) ": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Vm...:" line of /proc/<pid>/status, in kB; -1 when absent. */
static long
proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* This process's CPU (the producer and the subscriber), in seconds. */
static double
self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Others at work on the machine during a part: the machine's busy CPU time
 * (/proc/stat, steal included) minus ours (this process and the children
 * it reaped: redis-server, leadrouted, redis-benchmark). A part measures
 * between noise_begin and noise_end, with every child reaped by then.
 */
struct noise {
	double busy, ours, wall;
};

static double
machine_busy_s(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	fclose(f);
	/* user nice system idle iowait irq softirq steal: all but idle, iowait */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	    (double)sysconf(_SC_CLK_TCK);
}

static double
ours_s(void)
{
	struct rusage ru;
	double kids = 0;

	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		kids = (double)ru.ru_utime.tv_sec +
		    (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return self_cpu_s() + kids;
}

static void
noise_begin(struct noise *n)
{
	n->busy = machine_busy_s();
	n->ours = ours_s();
	n->wall = (double)mono_us() / 1e6;
}

/* The others' share of the whole machine (all CPUs) during the part. */
static double
noise_end(const struct noise *n)
{
	double others = (machine_busy_s() - n->busy) - (ours_s() - n->ours);
	double wall = (double)mono_us() / 1e6 - n->wall;
	double cpus = (double)sysconf(_SC_NPROCESSORS_ONLN);

	if (others < 0)
		others = 0;
	return wall > 0 ? others / (wall * cpus) : 0;
}

/* --- redis-server --------------------------------------------------------- */

struct rsrv {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

/* A TCP socket bound to a free loopback port (*port); the fd, or -1. */
static int
loopback_socket(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
free_port(void)
{
	int port, fd = loopback_socket(&port);

	if (fd == -1)
		return -1;
	close(fd);
	return port;
}

static redisContext *
connect_port(int port)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

static bool
pings(int port)
{
	redisContext *c = connect_port(port);
	redisReply *r;
	bool ok = false;

	if (c == NULL)
		return false;
	if ((r = redisCommand(c, "PING")) != NULL) {
		ok = r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

static void
rm_rf(const char *path)
{
	char cmd[PATH_MAX + 256];

	if (strstr(path, "/bench/") == NULL)
		return;		/* only ever our own scratch directories */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		say("cannot remove '%s'", path);
}

/* The Redis setting the figures assume besides AOF (README "Performance"). */
#define BENCH_LP_VALUE "1024"

/* A fresh redis-server in <work>/run/<name>, AOF on, appendfsync everysec. */
static int
rsrv_start(struct rsrv *r, const char *name)
{
	char port[16], log[PATH_MAX + 16];
	const char *argv[] = {"redis-server", "--port", port, "--bind",
	    "127.0.0.1", "--dir", r->dir, "--save", "", "--appendonly", "yes",
	    "--appendfsync", "everysec", "--daemonize", "no",
	    "--protected-mode", "no",
	    /* a lead record (its lead and score receipt are longer than the
	     * default 64) stays one compact listpack: README "Performance" */
	    "--hash-max-listpack-value", BENCH_LP_VALUE,
	    /* a slow reader of 100,000 alerts must not be cut off */
	    "--client-output-buffer-limit", "pubsub 512mb 256mb 60", NULL};
	long long until = mono_us() + 20000000LL;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s/run/%s", opt.work, name);
	rm_rf(r->dir);
	if (mkdir_p(r->dir) == -1 || (r->port = free_port()) == -1)
		return -1;
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	if ((r->pid = spawn(argv, log)) == -1)
		return -1;
	while (!pings(r->port)) {
		if (mono_us() > until || !alive(r->pid)) {
			say("redis-server did not start; see %s", log);
			return -1;
		}
		sleep_ms(10);
	}
	return 0;
}

/* Stop it and drop its data (the AOF of a million leads is gigabytes). */
static void
rsrv_stop(struct rsrv *r)
{
	char aof[PATH_MAX + 32];
	glob_t g;

	if (r->pid > 0)
		stop_pid(r->pid, SIGKILL, 5000);
	r->pid = 0;
	snprintf(aof, sizeof(aof), "%s/appendonlydir", r->dir);
	rm_rf(aof);
	/* A rewrite killed with its server leaves its temporary file. */
	snprintf(aof, sizeof(aof), "%s/temp-*", r->dir);
	if (glob(aof, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
}

/* --- Redis helpers -------------------------------------------------------- */

static redisReply *
cmd(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	return r;
}

/* An integer (or numeric string) reply; -1 on error or nil. */
static long long
cmd_int(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	long long v = -1;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

static char *
info_text(redisContext *c, const char *section)
{
	redisReply *r = cmd(c, "INFO %s", section);
	char *s = NULL;

	if (r != NULL && r->type == REDIS_REPLY_STRING)
		s = strdup(r->str);
	if (r != NULL)
		freeReplyObject(r);
	return s;
}

/* The value of "key:value" in INFO text, copied into out. */
static bool
info_field(const char *info, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key), n;
	const char *p = info, *e;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			p += klen + 1;
			e = p + strcspn(p, "\r\n");
			n = (size_t)(e - p) < len - 1 ? (size_t)(e - p) : len - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return false;
}

static double
info_num(redisContext *c, const char *section, const char *key)
{
	char *info = info_text(c, section), buf[64];
	double v = -1;

	if (info != NULL && info_field(info, key, buf, sizeof(buf)))
		v = strtod(buf, NULL);
	free(info);
	return v;
}

/* Redis's own CPU (main process and threads), and its children's. */
static void
redis_cpu(redisContext *c, double *self, double *kids)
{
	char *info = info_text(c, "cpu"), buf[64];

	*self = *kids = 0;
	if (info == NULL)
		return;
	if (info_field(info, "used_cpu_sys", buf, sizeof(buf)))
		*self += strtod(buf, NULL);
	if (info_field(info, "used_cpu_user", buf, sizeof(buf)))
		*self += strtod(buf, NULL);
	if (info_field(info, "used_cpu_sys_children", buf, sizeof(buf)))
		*kids += strtod(buf, NULL);
	if (info_field(info, "used_cpu_user_children", buf, sizeof(buf)))
		*kids += strtod(buf, NULL);
	free(info);
}

struct cmdstat {
	char name[64];
	long long calls;
	long long usec;
};

/* Parse INFO commandstats; the number of commands, -1 on error. */
static int
cmdstats_read(redisContext *c, struct cmdstat *out, int max)
{
	char *info = info_text(c, "commandstats"), *p, *line;
	int n = 0;

	if (info == NULL)
		return -1;
	for (line = strtok_r(info, "\r\n", &p); line != NULL && n < max;
	    line = strtok_r(NULL, "\r\n", &p)) {
		char *colon, *q;

		if (strncmp(line, "cmdstat_", 8) != 0 ||
		    (colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		snprintf(out[n].name, sizeof(out[n].name), "%s", line + 8);
		out[n].calls = (q = strstr(colon + 1, "calls=")) ?
		    strtoll(q + 6, NULL, 10) : 0;
		out[n].usec = (q = strstr(colon + 1, "usec=")) ?
		    strtoll(q + 5, NULL, 10) : 0;
		n++;
	}
	free(info);
	return n;
}

static void
key(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s%s", opt.prefix, name);
}

static long long
stat_field(redisContext *c, const char *field)
{
	char k[128];
	long long v;

	key(k, sizeof(k), "stats");
	v = cmd_int(c, "HGET %s %s", k, field);
	return v < 0 ? 0 : v;
}

static bool
wait_instances(redisContext *c, long long n)
{
	long long until = mono_us() + 20000000LL;
	char k[128];

	key(k, sizeof(k), "instances");
	while (cmd_int(c, "ZCARD %s", k) < n) {
		if (mono_us() > until)
			return false;
		sleep_ms(2);
	}
	return true;
}

/* --- configuration --------------------------------------------------------- */

static int
set_int(config_setting_t *g, const char *name, int v)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (s != NULL && config_setting_type(s) != CONFIG_TYPE_INT) {
		config_setting_remove(g, name);
		s = NULL;
	}
	if (s == NULL && (s = config_setting_add(g, name, CONFIG_TYPE_INT)) == NULL)
		return -1;
	return config_setting_set_int(s, v) == CONFIG_TRUE ? 0 : -1;
}

static int
set_str(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (s != NULL && config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_setting_remove(g, name);
		s = NULL;
	}
	if (s == NULL &&
	    (s = config_setting_add(g, name, CONFIG_TYPE_STRING)) == NULL)
		return -1;
	return config_setting_set_string(s, v) == CONFIG_TRUE ? 0 : -1;
}

static config_setting_t *
group(config_t *cf, const char *name)
{
	config_setting_t *root = config_root_setting(cf);
	config_setting_t *g = config_setting_get_member(root, name);

	if (g == NULL)
		g = config_setting_add(root, name, CONFIG_TYPE_GROUP);
	return g;
}

/*
 * The example configuration with the Redis port rewritten, HTTP off, every
 * rep's max_open at its maximum and max_per_period 0 (capacity never
 * blocks), sla.follow_up / warn_before when follow_up > 0, and with
 * hook_port > 0 one webhook endpoint (HOOK_NAME) for lead.assigned at
 * http://127.0.0.1:hook_port/ in place of the example's (none by default).
 */
#define HOOK_NAME "bench"
#define HOOK_SECRET "whsec_YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC0xMjM0"

static int
add_hook(config_t *cf, int hook_port)
{
	config_setting_t *root = config_root_setting(cf), *l, *e, *ev;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", hook_port);
	if (config_setting_get_member(root, "webhooks") != NULL &&
	    config_setting_remove(root, "webhooks") != CONFIG_TRUE)
		return -1;
	if ((l = config_setting_add(root, "webhooks", CONFIG_TYPE_LIST)) ==
	    NULL || (e = config_setting_add(l, NULL, CONFIG_TYPE_GROUP)) ==
	    NULL || set_str(e, "name", HOOK_NAME) == -1 ||
	    set_str(e, "url", url) == -1 ||
	    set_str(e, "secret", HOOK_SECRET) == -1 ||
	    (ev = config_setting_add(e, "events", CONFIG_TYPE_ARRAY)) == NULL ||
	    config_setting_set_string_elem(ev, -1, "lead.assigned") == NULL)
		return -1;
	return 0;
}

static int
write_conf(const char *out, int port, int follow_up, int warn_before,
    int hook_port)
{
	config_t cf;
	config_setting_t *g, *reps;
	const char *prefix = NULL;
	int rc = -1;

	config_init(&cf);
	if (config_read_file(&cf, opt.conf_in) != CONFIG_TRUE) {
		say("cannot read '%s': line %d: %s", opt.conf_in,
		    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	if ((g = group(&cf, "redis")) == NULL || set_str(g, "host",
	    "127.0.0.1") == -1 || set_int(g, "port", port) == -1 ||
	    set_str(g, "unix_socket", "") == -1)
		goto out;
	if (config_setting_lookup_string(g, "prefix", &prefix) == CONFIG_TRUE)
		snprintf(opt.prefix, sizeof(opt.prefix), "%s", prefix);
	(void)config_lookup_int(&cf, "scoring.mql_threshold", &mql_threshold);
	if ((g = group(&cf, "http")) == NULL || set_str(g, "listen", "") == -1)
		goto out;
	if ((reps = config_lookup(&cf, "reps")) == NULL) {
		say("'%s' has no reps", opt.conf_in);
		goto out;
	}
	for (int i = 0; i < config_setting_length(reps); i++) {
		config_setting_t *r = config_setting_get_elem(reps, (unsigned)i);

		if (set_int(r, "max_open", 1000000) == -1 ||
		    set_int(r, "max_per_period", 0) == -1)
			goto out;
	}
	if (follow_up > 0 && ((g = group(&cf, "sla")) == NULL ||
	    set_int(g, "follow_up", follow_up) == -1 ||
	    set_int(g, "warn_before", warn_before) == -1))
		goto out;
	if (hook_port > 0 && add_hook(&cf, hook_port) == -1)
		goto out;
	if (config_write_file(&cf, out) != CONFIG_TRUE) {
		say("cannot write '%s'", out);
		goto out;
	}
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}

/* --- the lead generator ----------------------------------------------------- */

/*
 * Deterministic: lead i of a tag is always the same bytes (but for
 * bench_t_us). Every 100th lead (i % 100 == 37) is malformed, in turn:
 * bad JSON, no id, no email, a bad email, a bad id, not an object, or a
 * duplicate of lead i-1. The rest are realistic B2B leads, about 30%
 * scoring below the example's threshold: a mirror of the example's rules
 * picks, by rejection, attributes of the wanted class.
 */
enum gen_mode { GEN_MIX, GEN_MQL };

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static long
rnd_n(uint64_t *s, long n)
{
	return (long)(rnd(s) % (uint64_t)n);
}

#define PICK(s, a) ((a)[rnd_n((s), (long)(sizeof(a) / sizeof((a)[0])))])

static const char *const first_names[] = {"Ann", "Ben", "Carla", "Dev",
    "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
    "Mei", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq"};
static const char *const last_names[] = {"Smith", "Garcia", "Nguyen",
    "Müller", "Rossi", "Okafor", "Tanaka", "Dubois", "Kowalski", "Silva",
    "Johansson", "Patel", "O'Brien", "Cohen", "Novak", "Haddad"};
static const char *const co_stems[] = {"Acme", "Globex", "Initech", "Umbra",
    "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Hooli", "Pied",
    "Soylent", "Massive", "Wonka", "Gringotts", "Oscorp"};
static const char *const co_suffix[] = {"Systems", "Labs", "Analytics",
    "Logistics", "Health", "Capital", "Retail", "Software", "Media", "Works"};
static const char *const titles[] = {"VP Sales", "Vice President Marketing",
    "Director of Engineering", "Head of Operations", "Chief Revenue Officer",
    "CTO", "CIO", "Co-Founder", "Sales Manager", "Engineering Manager",
    "Team Lead", "Software Engineer", "Data Analyst", "Consultant",
    "Account Executive", "Marketing Specialist", "Office Administrator",
    "Product Owner", "Student", "Intern"};
static const char *const industries[] = {"software", "fintech", "saas",
    "financial services", "healthcare", "retail", "manufacturing",
    "education", "logistics", "media", "construction", "Software"};
static const char *const countries[] = {"us", "gb", "de", "fr", "nl", "ca",
    "es", "it", "in", "br", "au", "jp", "se", "US"};
static const char *const sources[] = {"webinar", "google_ads", "partner",
    "organic", "linkedin", "trade_show", "referral", "content_download"};
static const char *const freemail[] = {"gmail.com", "yahoo.com",
    "hotmail.com", "outlook.com", "aol.com"};

struct attrs {
	char first[32], last[32], company[64], domain[64];
	const char *title, *industry, *country, *source;
	long employees;		/* -1: absent */
	int page_views, email_clicks;
	bool demo, pricing;
};

static bool
ci_contains(const char *s, const char *sub)
{
	size_t n = strlen(sub);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, sub, n) == 0)
			return true;
	return false;
}

static bool
ci_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool
ci_any(const char *s, const char *const *list, bool ends)
{
	for (; *list != NULL; list++)
		if (ends ? ci_ends(s, *list) : ci_contains(s, *list))
			return true;
	return false;
}

/* conf/leadrouted.conf's scoring.rules, mirrored (the email is first.last@domain). */
static int
mirror_score(const struct attrs *a)
{
	static const char *const senior[] = {"vp", "vice president",
	    "director", "head", "chief", "cto", "cio", "founder", NULL};
	static const char *const middle[] = {"manager", "lead", NULL};
	static const char *const fit[] = {"software", "fintech", "saas",
	    "financial services", NULL};
	static const char *const ctry[] = {"us", "gb", "de", "fr", "nl", "ca",
	    NULL};
	static const char *const free_[] = {"@gmail.com", "@yahoo.com",
	    "@hotmail.com", "@outlook.com", "@aol.com", NULL};
	static const char *const junior[] = {"student", "intern", NULL};
	char email[128];
	int s = 0;

	snprintf(email, sizeof(email), "x@%s", a->domain);
	s += ci_any(a->title, senior, false) ? 20 : 0;
	s += ci_any(a->title, middle, false) ? 10 : 0;
	s += a->employees >= 100 && a->employees <= 5000 ? 15 : 0;
	s += a->employees > 5000 ? 10 : 0;
	for (int i = 0; fit[i] != NULL; i++)
		s += strcasecmp(a->industry, fit[i]) == 0 ? 10 : 0;
	for (int i = 0; ctry[i] != NULL; i++)
		s += strcasecmp(a->country, ctry[i]) == 0 ? 5 : 0;
	s += a->demo ? 30 : 0;
	s += a->pricing ? 10 : 0;
	s += a->page_views * 2 > 20 ? 20 : a->page_views * 2;
	s += a->email_clicks * 3 > 15 ? 15 : a->email_clicks * 3;
	s += strcasecmp(a->source, "partner") == 0 ? 10 : 0;
	s += strcasecmp(a->source, "webinar") == 0 ? 5 : 0;
	s += ci_any(email, free_, true) ? -15 : 0;
	s += ci_any(a->title, junior, false) ? -40 : 0;
	s += ci_ends(email, ".edu") ? -20 : 0;
	s += strcasecmp(a->industry, "competitor") == 0 ? -100 : 0;
	return s;
}

static void
draw(uint64_t *s, long i, struct attrs *a)
{
	long tier = rnd_n(s, 100);
	const char *stem = PICK(s, co_stems), *suf = PICK(s, co_suffix);
	long d = rnd_n(s, 100);

	snprintf(a->first, sizeof(a->first), "%s", PICK(s, first_names));
	snprintf(a->last, sizeof(a->last), "%s", PICK(s, last_names));
	snprintf(a->company, sizeof(a->company), "%s %s %ld", stem, suf,
	    i % 9973);
	if (d < 70)
		snprintf(a->domain, sizeof(a->domain), "%s-%s%ld.com", stem,
		    suf, i % 9973);
	else if (d < 92)
		snprintf(a->domain, sizeof(a->domain), "%s", PICK(s, freemail));
	else if (d < 95)
		snprintf(a->domain, sizeof(a->domain), "uni%ld.edu",
		    rnd_n(s, 300));
	else
		snprintf(a->domain, sizeof(a->domain), "mail.%s.io", stem);
	a->title = PICK(s, titles);
	a->industry = rnd_n(s, 100) == 0 ? "competitor" : PICK(s, industries);
	a->country = PICK(s, countries);
	a->source = PICK(s, sources);
	if (tier < 5)
		a->employees = -1;
	else if (tier < 45)
		a->employees = 1 + rnd_n(s, 99);
	else if (tier < 80)
		a->employees = 100 + rnd_n(s, 900);
	else if (tier < 95)
		a->employees = 1000 + rnd_n(s, 4001);
	else
		a->employees = 5001 + rnd_n(s, 95000);
	a->page_views = (int)(rnd_n(s, 6) * rnd_n(s, 6));
	a->email_clicks = (int)rnd_n(s, 7);
	a->demo = rnd_n(s, 100) < 20;
	a->pricing = rnd_n(s, 100) < 30;
}

static void
lowercase_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Lead i as JSON into buf (NUL-terminated); its length. */
static size_t
gen_lead(char *buf, size_t len, const char *tag, long i, enum gen_mode mode,
    long long t_us)
{
	uint64_t s = 0x5EEDB0A710ADULL ^ ((uint64_t)i * 0xD1B54A32D192ED03ULL);
	char tfield[48] = "", emp[64] = "", local[80];
	struct attrs a;
	bool want_mql;
	int n;

	if (t_us >= 0)
		snprintf(tfield, sizeof(tfield), "\"bench_t_us\":%lld,", t_us);
	if (mode == GEN_MIX && i % 100 == 37) {
		switch ((i / 100) % 7) {
		case 0:
			n = snprintf(buf, len, "{\"id\":\"%s-%ld\",%s\"email\":\"ann@example.com\",\"name\":\"Trunc", tag, i, tfield);
			break;
		case 1:
			n = snprintf(buf, len, "{%s\"email\":\"ann@example.com\",\"name\":\"No Id\"}", tfield);
			break;
		case 2:
			n = snprintf(buf, len, "{\"id\":\"%s-%ld\",%s\"name\":\"No Email\"}", tag, i, tfield);
			break;
		case 3:
			n = snprintf(buf, len, "{\"id\":\"%s-%ld\",%s\"email\":\"not-an-email\"}", tag, i, tfield);
			break;
		case 4:
			n = snprintf(buf, len, "{\"id\":\"%s %ld\",%s\"email\":\"ann@example.com\"}", tag, i, tfield);
			break;
		case 5:
			n = snprintf(buf, len, "[\"%s-%ld\",\"ann@example.com\"]", tag, i);
			break;
		default:
			return gen_lead(buf, len, tag, i - 1, mode, t_us);
		}
		return n < 0 ? 0 : (size_t)n;
	}
	want_mql = mode == GEN_MQL || rnd_n(&s, 100) >= 30;
	for (int tries = 0;; tries++) {
		draw(&s, i, &a);
		if ((mirror_score(&a) >= mql_threshold) == want_mql)
			break;
		if (tries == 200) {	/* never in practice */
			a.title = want_mql ? "VP Sales" : "Intern";
			a.demo = want_mql;
			break;
		}
	}
	if (a.employees >= 0)
		snprintf(emp, sizeof(emp), "\"employees\":%ld,\"revenue\":%ld,",
		    a.employees, a.employees * (90000 + (i % 7) * 20000));
	snprintf(local, sizeof(local), "%s.%s", a.first, a.last);
	lowercase_ascii(local);
	for (char *p = local; *p != '\0'; p++)
		if (*p == '\'')
			*p = '-';
	n = snprintf(buf, len,
	    "{\"id\":\"%s-%ld\",%s\"email\":\"%s@%s\",\"name\":\"%s %s\","
	    "\"company\":\"%s\",\"title\":\"%s\",\"industry\":\"%s\","
	    "\"country\":\"%s\",\"source\":\"%s\",%s"
	    "\"activity\":{\"page_views\":%d,\"demo_request\":%s,"
	    "\"pricing_page\":%s,\"email_clicks\":%d},"
	    "\"created_at_ms\":%lld,\"utm_campaign\":\"spring-launch\","
	    "\"consent\":{\"marketing\":true,\"ip\":\"203.0.113.%ld\"}}",
	    tag, i, tfield, local, a.domain, a.first, a.last, a.company,
	    a.title, a.industry, a.country, a.source, emp, a.page_views,
	    a.demo ? "true" : "false", a.pricing ? "true" : "false",
	    a.email_clicks, 1767225600000LL + i * 37, i % 250 + 1);
	return n < 0 ? 0 : (size_t)n;
}

/* Pre-load leads [from, from + n) with pipelined multi-value LPUSHes. */
static int
push_many(redisContext *c, const char *tag, long from, long n,
    enum gen_mode mode)
{
	static char bufs[PUSH_CHUNK][1024];
	const char *argv[PUSH_CHUNK + 2];
	size_t lens[PUSH_CHUNK + 2];
	char k[128];
	int inflight = 0;
	void *reply;

	key(k, sizeof(k), "incoming");
	argv[0] = "LPUSH";
	lens[0] = 5;
	argv[1] = k;
	lens[1] = strlen(k);
	for (long done = 0; done < n || inflight > 0;) {
		if (done < n && inflight < PUSH_PIPELINE) {
			int m = 0;

			for (; m < PUSH_CHUNK && done < n; m++, done++) {
				lens[2 + m] = gen_lead(bufs[m], sizeof(bufs[m]),
				    tag, from + done, mode, -1);
				argv[2 + m] = bufs[m];
			}
			if (redisAppendCommandArgv(c, 2 + m, argv, lens) != REDIS_OK)
				return -1;
			inflight++;
			continue;
		}
		if (redisGetReply(c, &reply) != REDIS_OK)
			return -1;
		if (((redisReply *)reply)->type == REDIS_REPLY_ERROR) {
			say("LPUSH failed: %s", ((redisReply *)reply)->str);
			freeReplyObject(reply);
			return -1;
		}
		freeReplyObject(reply);
		inflight--;
	}
	return 0;
}

/* --- the daemon ------------------------------------------------------------- */

/*
 * Copy the daemon src to name in the work directory (out: its path): the
 * parts run the copy, so that a rebuild during the run (others work in
 * the same tree) cannot change the binary between them.
 */
static int
copy_daemon(const char *src, const char *name, char *out, size_t len)
{
	char buf[65536];
	ssize_t n = 0;
	int in, fd, rc = 0;

	snprintf(out, len, "%s/%s", opt.work, name);
	if ((in = open(src, O_RDONLY)) == -1)
		return -1;
	unlink(out);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0755)) == -1) {
		close(in);
		return -1;
	}
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			rc = -1;
	if (n == -1)
		rc = -1;
	close(in);
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

static pid_t
daemon_start(const char *conf, const char *log)
{
	const char *argv[] = {opt.daemon_bin, "-c", conf, NULL};

	return spawn(argv, log);
}

static int
daemon_stop(pid_t pid)
{
	return stop_pid(pid, SIGTERM, 30000);
}

/*
 * Wait until lr:stats counts n committed leads; polls counted in *polls.
 * Fails when nothing is committed for STALL_LIMIT_S or a daemon exits.
 */
static bool
wait_committed(redisContext *c, long long n, long *polls, pid_t *pids,
    int npids)
{
	long long last = -1, got, stall = mono_us();

	for (;;) {
		(*polls)++;
		if ((got = stat_field(c, "received")) >= n)
			return true;
		if (got != last) {
			last = got;
			stall = mono_us();
		} else if (mono_us() - stall > STALL_LIMIT_S * 1000000LL) {
			say("no lead committed for %d s (%lld of %lld)",
			    STALL_LIMIT_S, got, n);
			return false;
		}
		for (int i = 0; i < npids; i++)
			if (!alive(pids[i])) {
				say("leadrouted (pid %d) exited", (int)pids[i]);
				return false;
			}
		sleep_ms(2);
	}
}

/* --- part 4: the reference ----------------------------------------------- */

struct ref_result {
	bool ok;
	double lpush[2], rpop[2];	/* -P 1, -P 32 */
};

static int
run_redis_benchmark(int port, int pipeline, double *lpush, double *rpop)
{
	char line[512], cmdline[256];
	FILE *p;

	snprintf(cmdline, sizeof(cmdline),
	    "redis-benchmark -h 127.0.0.1 -p %d -t lpush,rpop -n %ld -P %d -q --csv 2>/dev/null",
	    port, opt.bench_n, pipeline);
	if ((p = popen(cmdline, "r")) == NULL)
		return -1;
	*lpush = *rpop = -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "\"LPUSH\",\"", 9) == 0)
			*lpush = strtod(line + 9, NULL);
		else if (strncmp(line, "\"RPOP\",\"", 8) == 0)
			*rpop = strtod(line + 8, NULL);
	}
	if (pclose(p) != 0 || *lpush <= 0 || *rpop <= 0)
		return -1;
	return 0;
}

static void
part_ref(struct ref_result *res)
{
	static const int pl[2] = {1, 32};
	struct rsrv r;

	memset(res, 0, sizeof(*res));
	say("reference: redis-benchmark LPUSH, RPOP (-n %ld, -P 1 and -P 32)",
	    opt.bench_n);
	if (rsrv_start(&r, "ref") == -1)
		return;
	res->ok = true;
	for (int i = 0; i < 2; i++)
		if (run_redis_benchmark(r.port, pl[i], &res->lpush[i],
		    &res->rpop[i]) == -1) {
			say("redis-benchmark -P %d failed", pl[i]);
			res->ok = false;
		}
	rsrv_stop(&r);
}

/* --- Redis work per lead, from INFO commandstats ------------------------- */

/*
 * What the daemon made Redis do since CONFIG RESETSTAT. commandstats
 * counts the commands that scripts run too, so "calls" is every command;
 * "script_usec" is the time inside EVALSHA, "inner_usec" the part of it
 * spent in the commands the scripts ran (the rest is the Lua interpreter).
 * The bench's own commands are left out: INFO, CONFIG, and the given
 * counts of its HGET polls and producer LPUSHes.
 */
struct work {
	long long calls, scripts, script_usec, inner_usec;
	long long direct_usec;	/* the daemon's own commands but EVALSHA (BLMOVE...) */
	struct cmdstat top[NTOP];
	int ntop;
};

static bool
daemon_direct(const char *name)
{
	static const char *const direct[] = {"evalsha", "eval", "blmove",
	    "script", "client", "ping", "hello", "select", "auth", "info",
	    "config", "role", "wait", "subscribe", NULL};

	for (int i = 0; direct[i] != NULL; i++)
		if (strncmp(name, direct[i], strlen(direct[i])) == 0)
			return true;
	return false;
}

static int cmp_calls(const void *a, const void *b);

static int
work_read(redisContext *c, long long own_hget, long long own_lpush,
    struct work *w)
{
	struct cmdstat cs[MAX_CMDSTATS];
	int n = cmdstats_read(c, cs, MAX_CMDSTATS);

	memset(w, 0, sizeof(*w));
	if (n == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		struct cmdstat *x = &cs[i];

		if (strcmp(x->name, "info") == 0 ||
		    strncmp(x->name, "config", 6) == 0) {
			x->calls = 0;
			continue;
		}
		if (strcmp(x->name, "hget") == 0)
			x->calls -= own_hget < x->calls ? own_hget : x->calls;
		if (strcmp(x->name, "lpush") == 0)
			x->calls -= own_lpush < x->calls ? own_lpush : x->calls;
		w->calls += x->calls;
		if (strcmp(x->name, "evalsha") == 0 ||
		    strcmp(x->name, "eval") == 0) {
			w->scripts += x->calls;
			w->script_usec += x->usec;
		} else if (!daemon_direct(x->name))
			w->inner_usec += x->usec;
		else
			w->direct_usec += x->usec;
	}
	qsort(cs, (size_t)n, sizeof(cs[0]), cmp_calls);
	for (int i = 0; i < n && w->ntop < NTOP; i++)
		if (cs[i].calls > 0)
			w->top[w->ntop++] = cs[i];
	return 0;
}

/* --- part 1 and 5: throughput, peak RSS --------------------------------- */

struct tput_result {
	bool ok;
	int inst;
	long leads;
	double secs, rate;
	double cmds, script_calls, redis_cpu_us, redis_kids_cpu_s, daemon_cpu_us;
	long hwm_kb[2];
	long long assigned, nurture, dead, duplicate, backlog;
	struct work w;
	double script_us, inner_us;	/* per lead: in scripts, in their commands */
	double direct_us;	/* per lead: the daemon's other commands (BLMOVE) */
	double evalsha_usec_per_call;
	char load[64];		/* /proc/loadavg when the run started */
};

static int
cmp_calls(const void *a, const void *b)
{
	const struct cmdstat *x = a, *y = b;

	return x->calls < y->calls ? 1 : x->calls > y->calls ? -1 : 0;
}

/* Sum lr:stats fields by prefix ("assigned:" counts assigned:<segment>). */
static long long
stats_sum(redisContext *c, const char *pfx)
{
	char k[128];
	redisReply *r;
	long long sum = 0;
	size_t n = strlen(pfx);

	key(k, sizeof(k), "stats");
	if ((r = cmd(c, "HGETALL %s", k)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i + 1 < r->elements; i += 2)
			if (strncmp(r->element[i]->str, pfx, n) == 0 &&
			    strncmp(r->element[i]->str, "assigned_rep:", 13) != 0)
				sum += strtoll(r->element[i + 1]->str, NULL, 10);
	freeReplyObject(r);
	return sum;
}

/* BGREWRITEAOF, and wait until no rewrite runs or is scheduled. */
static int
aof_rewrite_now(redisContext *c)
{
	long long until = mono_us() + 120000000LL;
	redisReply *r = cmd(c, "BGREWRITEAOF");

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	while (info_num(c, "persistence", "aof_rewrite_in_progress") != 0 ||
	    info_num(c, "persistence", "aof_rewrite_scheduled") != 0) {
		if (mono_us() > until)
			return -1;
		sleep_ms(20);
	}
	return 0;
}

/*
 * Start a part's clock once its pre-load is in: the pre-load's own AOF
 * rewrite done now (it is not the measured work), the command stats reset
 * and Redis's CPU read into *cpu and *kids. The start (mono_us), or -1.
 */
static long long
clock_start(redisContext *c, double *cpu, double *kids)
{
	if (aof_rewrite_now(c) == -1) {
		say("cannot rewrite the AOF after the pre-load");
		return -1;
	}
	freeReplyObject(cmd(c, "CONFIG RESETSTAT"));
	redis_cpu(c, cpu, kids);
	return mono_us();
}

static void
part_tput(struct tput_result *res, int inst)
{
	char name[32], conf[PATH_MAX + 32], log[PATH_MAX + 32], tag[16];
	double cpu0, kids0, cpu1, kids1, dcpu = 0;
	long long t0, t1;
	pid_t pids[2] = {0, 0};
	redisContext *c = NULL;
	long polls = 0;
	struct rsrv r;

	memset(res, 0, sizeof(*res));
	loadavg(res->load, sizeof(res->load));
	res->inst = inst;
	res->leads = opt.tput_leads;
	snprintf(name, sizeof(name), "tput%d", inst);
	snprintf(tag, sizeof(tag), "t%d", inst);
	say("throughput, %d instance%s: pre-loading %ld leads", inst,
	    inst > 1 ? "s" : "", opt.tput_leads);
	if (rsrv_start(&r, name) == -1)
		return;
	snprintf(conf, sizeof(conf), "%s/leadrouted.conf", r.dir);
	if (write_conf(conf, r.port, 0, 0, 0) == -1 ||
	    (c = connect_port(r.port)) == NULL ||
	    push_many(c, tag, 0, opt.tput_leads, GEN_MIX) == -1) {
		say("cannot set up the throughput run");
		goto out;
	}
	if ((t0 = clock_start(c, &cpu0, &kids0)) == -1)
		goto out;
	for (int i = 0; i < inst; i++) {
		snprintf(log, sizeof(log), "%s/leadrouted-%d.log", r.dir, i);
		if ((pids[i] = daemon_start(conf, log)) == -1)
			goto out;
	}
	if (!wait_committed(c, opt.tput_leads, &polls, pids, inst)) {
		say("not every lead was committed; see %s", r.dir);
		goto out;
	}
	t1 = mono_us();
	redis_cpu(c, &cpu1, &kids1);
	for (int i = 0; i < inst; i++) {
		dcpu += proc_cpu_s(pids[i]);
		res->hwm_kb[i] = proc_kb(pids[i], "VmHWM");
	}
	if (work_read(c, polls, 0, &res->w) == -1)
		goto out;
	res->secs = (double)(t1 - t0) / 1e6;
	res->rate = (double)opt.tput_leads / res->secs;
	res->cmds = (double)res->w.calls / (double)opt.tput_leads;
	res->script_calls = (double)res->w.scripts / (double)opt.tput_leads;
	res->evalsha_usec_per_call = res->w.scripts > 0 ?
	    (double)res->w.script_usec / (double)res->w.scripts : 0;
	res->script_us = (double)res->w.script_usec / (double)opt.tput_leads;
	res->inner_us = (double)res->w.inner_usec / (double)opt.tput_leads;
	res->direct_us = (double)res->w.direct_usec / (double)opt.tput_leads;
	res->redis_cpu_us = (cpu1 - cpu0) * 1e6 / (double)opt.tput_leads;
	res->redis_kids_cpu_s = kids1 - kids0;
	res->daemon_cpu_us = dcpu * 1e6 / (double)opt.tput_leads;
	res->assigned = stats_sum(c, "assigned:");
	res->nurture = stats_sum(c, "nurture:");
	res->dead = stats_sum(c, "dead:");
	res->duplicate = stat_field(c, "duplicate");
	res->backlog = stats_sum(c, "backlogged:");
	res->ok = true;
	say("throughput, %d instance%s: %.0f leads/s", inst, inst > 1 ? "s" : "",
	    res->rate);
out:
	for (int i = 0; i < inst; i++)
		if (pids[i] > 0 && daemon_stop(pids[i]) != 0)
			say("leadrouted did not exit 0; see %s", r.dir);
	if (c != NULL)
		redisFree(c);
	rsrv_stop(&r);
}

/* The run of median rate among n (failed runs count as slowest). */
static int
median_run(const struct tput_result *runs, int n)
{
	int idx[TPUT_RUNS];

	for (int i = 0; i < n; i++)
		idx[i] = i;
	for (int i = 1; i < n; i++)	/* insertion sort by rate */
		for (int k = i; k > 0 && (runs[idx[k]].ok ? runs[idx[k]].rate : -1) <
		    (runs[idx[k - 1]].ok ? runs[idx[k - 1]].rate : -1); k--) {
			int t = idx[k];

			idx[k] = idx[k - 1];
			idx[k - 1] = t;
		}
	return n > 0 ? idx[n / 2] : 0;
}

/* --- part 7: webhooks on ---------------------------------------------------- */

/*
 * The throughput run (1 instance) once more with one webhook endpoint for
 * lead.assigned: each assignment's delivery is recorded by the commit
 * (the outbox), leased, signed and sent by the daemon, and acknowledged
 * through the script; the receiver is a child of the bench (libevent's
 * evhttp, answering 200 at once). Timed until every lead is committed and
 * until the endpoint's due set is empty; Redis and daemon CPU per lead
 * over the whole, to set against the runs without webhooks.
 */
struct hooks_result {
	bool ok;
	long leads;
	double commit_secs, rate;	/* until every lead is committed */
	double all_secs, deliv_rate;	/* until every delivery is done */
	long long assigned, received;
	double cmds, script_calls, redis_cpu_us, daemon_cpu_us;
	char load[64];
};

static long long hook_count;

static void
hook_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	hook_count++;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void
hook_term(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/*
 * The receiver: answer every request on the listening socket fd with 200
 * until SIGTERM, then write how many it answered to count_path. Runs in a
 * child of the bench and never returns.
 */
static void
hook_serve(int fd, const char *count_path, const sigset_t *mask)
{
	struct event_base *base;
	struct evhttp *h;
	struct event *term;
	FILE *f;

	if ((base = event_base_new()) == NULL ||
	    (term = evsignal_new(base, SIGTERM, hook_term, base)) == NULL ||
	    event_add(term, NULL) != 0 || (h = evhttp_new(base)) == NULL ||
	    evhttp_accept_socket(h, fd) != 0)
		_exit(1);
	sigprocmask(SIG_SETMASK, mask, NULL);	/* SIGTERM now ends the loop */
	evhttp_set_gencb(h, hook_request, NULL);
	event_base_dispatch(base);
	if ((f = fopen(count_path, "w")) == NULL)
		_exit(1);
	fprintf(f, "%lld\n", hook_count);
	_exit(fclose(f) == 0 ? 0 : 1);
}

/* Fork the receiver on a free loopback port (*port); its PID, or -1. */
static pid_t
hook_start(int *port, const char *count_path)
{
	sigset_t all, old;
	pid_t pid;
	int fd;

	if ((fd = loopback_socket(port)) == -1)
		return -1;
	if (listen(fd, 128) == -1 || evutil_make_socket_nonblocking(fd) == -1) {
		close(fd);
		return -1;
	}
	/* Signals held in the child until its libevent handler is in place. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		hook_serve(fd, count_path, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fd);
	if (pid > 0)
		track(pid);
	return pid;
}

static void
part_hooks(struct hooks_result *res)
{
	char conf[PATH_MAX + 32], log[PATH_MAX + 32], count[PATH_MAX + 32];
	char due[128];
	double cpu0, kids0, cpu1, kids1;
	long long t0, t1, t2, until;
	pid_t pid = 0, hook = 0;
	redisContext *c = NULL;
	long polls = 0, zpolls = 0;
	struct work w;
	struct rsrv r;
	int hook_port = 0;
	FILE *f;

	memset(res, 0, sizeof(*res));
	loadavg(res->load, sizeof(res->load));
	res->leads = opt.tput_leads;
	say("webhooks on: pre-loading %ld leads", opt.tput_leads);
	if (rsrv_start(&r, "hooks") == -1)
		return;
	snprintf(conf, sizeof(conf), "%s/leadrouted.conf", r.dir);
	snprintf(log, sizeof(log), "%s/leadrouted.log", r.dir);
	snprintf(count, sizeof(count), "%s/received", r.dir);
	key(due, sizeof(due), "webhook:" HOOK_NAME ":due");
	if ((hook = hook_start(&hook_port, count)) == -1 ||
	    write_conf(conf, r.port, 0, 0, hook_port) == -1 ||
	    (c = connect_port(r.port)) == NULL ||
	    push_many(c, "h", 0, opt.tput_leads, GEN_MIX) == -1) {
		say("cannot set up the webhooks run");
		goto out;
	}
	if ((t0 = clock_start(c, &cpu0, &kids0)) == -1)
		goto out;
	if ((pid = daemon_start(conf, log)) == -1)
		goto out;
	if (!wait_committed(c, opt.tput_leads, &polls, &pid, 1)) {
		say("not every lead was committed; see %s", r.dir);
		goto out;
	}
	t1 = mono_us();
	until = t1 + STALL_LIMIT_S * 1000000LL * 4;
	for (;;) {
		zpolls++;
		if (cmd_int(c, "ZCARD %s", due) == 0)
			break;
		if (mono_us() > until || !alive(pid)) {
			say("deliveries not done; see %s", r.dir);
			goto out;
		}
		sleep_ms(2);
	}
	t2 = mono_us();
	redis_cpu(c, &cpu1, &kids1);
	res->daemon_cpu_us = proc_cpu_s(pid) * 1e6 / (double)opt.tput_leads;
	if (work_read(c, polls, 0, &w) == -1)
		goto out;
	w.calls -= zpolls;	/* the bench's own ZCARDs */
	res->commit_secs = (double)(t1 - t0) / 1e6;
	res->rate = (double)opt.tput_leads / res->commit_secs;
	res->all_secs = (double)(t2 - t0) / 1e6;
	res->cmds = (double)w.calls / (double)opt.tput_leads;
	res->script_calls = (double)w.scripts / (double)opt.tput_leads;
	res->redis_cpu_us = (cpu1 - cpu0) * 1e6 / (double)opt.tput_leads;
	res->assigned = stats_sum(c, "assigned:");
	if (stop_pid(hook, SIGTERM, 10000) != 0 ||
	    (f = fopen(count, "r")) == NULL) {
		hook = 0;
		say("the webhook receiver failed; see %s", r.dir);
		goto out;
	}
	hook = 0;
	if (fscanf(f, "%lld", &res->received) != 1)
		res->received = -1;
	fclose(f);
	res->deliv_rate = (double)res->received / res->all_secs;
	/* At least once: a re-sent delivery (a lease that ran out) counts. */
	if (res->received < res->assigned) {
		say("webhooks: %lld deliveries received for %lld assignments",
		    res->received, res->assigned);
		goto out;
	}
	res->ok = true;
	say("webhooks on: %.0f leads/s committed, all %lld delivered in %.1f s",
	    res->rate, res->received, res->all_secs);
out:
	if (pid > 0 && daemon_stop(pid) != 0)
		say("leadrouted did not exit 0; see %s", r.dir);
	if (hook > 0)
		(void)stop_pid(hook, SIGTERM, 10000);
	if (c != NULL)
		redisFree(c);
	rsrv_stop(&r);
}

/* --- part 6: the peer, a BullMQ worker ------------------------------------ */

/*
 * The same leads (the throughput part's generator, fewer of them) as BullMQ
 * jobs, added by `node peer.mjs load` before the clock starts; then one
 * `node peer.mjs work` process (BullMQ Worker, concurrency PEER_CONCURRENCY)
 * pops each job, scores it with a trivial rule, writes a result hash and
 * acknowledges it. Timed from the worker's start until no job is waiting or
 * active; the same Redis settings and the same CPU accounting as tput.
 */
#define PEER_QUEUE "leads"
#define PEER_CONCURRENCY "100"

struct peer_result {
	bool ok;
	long jobs;
	double secs, rate, redis_cpu_us, worker_cpu_us, cmds;
	long long results;	/* peer:lead:* hashes written */
	char load[64];
};

static int
peer_write_leads(const char *path, long n)
{
	char buf[1024];
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	for (long i = 0; i < n; i++) {
		size_t len = gen_lead(buf, sizeof(buf), "p", i, GEN_MIX, -1);

		fwrite(buf, 1, len, f);
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void
part_peer(struct peer_result *res)
{
	char script[PATH_MAX + 16], leads[PATH_MAX + 32], log[PATH_MAX + 32];
	char port[16], wait_k[64], active_k[64];
	double cpu0, kids0, cpu1, kids1;
	long long t0;
	pid_t pid = 0;
	redisContext *c = NULL;
	struct work w;
	struct rsrv r;
	int status;

	memset(res, 0, sizeof(*res));
	loadavg(res->load, sizeof(res->load));
	res->jobs = opt.peer_leads;
	snprintf(script, sizeof(script), "%s/peer.mjs", opt.peer_dir);
	if (access(script, R_OK) == -1) {
		say("peer: no '%s' (make bench installs it); skipped", script);
		return;
	}
	say("peer: BullMQ worker, pre-loading %ld jobs", opt.peer_leads);
	if (rsrv_start(&r, "peer") == -1)
		return;
	snprintf(port, sizeof(port), "%d", r.port);
	snprintf(leads, sizeof(leads), "%s/leads.txt", r.dir);
	snprintf(log, sizeof(log), "%s/peer.log", r.dir);
	snprintf(wait_k, sizeof(wait_k), "bull:%s:wait", PEER_QUEUE);
	snprintf(active_k, sizeof(active_k), "bull:%s:active", PEER_QUEUE);
	if ((c = connect_port(r.port)) == NULL ||
	    peer_write_leads(leads, opt.peer_leads) == -1) {
		say("cannot set up the peer run");
		goto out;
	}
	{
		const char *argv[] = {"node", script, "load", port, leads,
		    PEER_QUEUE, NULL};

		if ((pid = spawn(argv, log)) == -1 ||
		    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			say("peer: loading the jobs failed; see %s", log);
			untrack(pid);
			pid = 0;
			goto out;
		}
		untrack(pid);
		pid = 0;
	}
	if (cmd_int(c, "LLEN %s", wait_k) != opt.peer_leads) {
		say("peer: %s does not hold %ld jobs", wait_k, opt.peer_leads);
		goto out;
	}
	if ((t0 = clock_start(c, &cpu0, &kids0)) == -1)
		goto out;
	{
		const char *argv[] = {"node", script, "work", port, PEER_QUEUE,
		    PEER_CONCURRENCY, NULL};

		if ((pid = spawn(argv, log)) == -1)
			goto out;
	}
	for (long polls = 0;; polls++) {
		if (cmd_int(c, "LLEN %s", wait_k) == 0 &&
		    cmd_int(c, "LLEN %s", active_k) == 0)
			break;
		if (!alive(pid)) {
			say("peer: the worker exited; see %s", log);
			pid = 0;
			goto out;
		}
		if (mono_us() - t0 > 300000000LL) {
			say("peer: not done in 300 s");
			goto out;
		}
		sleep_ms(2);
	}
	res->secs = (double)(mono_us() - t0) / 1e6;
	redis_cpu(c, &cpu1, &kids1);
	res->worker_cpu_us = proc_cpu_s(pid) * 1e6 / (double)opt.peer_leads;
	if (work_read(c, 0, 0, &w) == 0)	/* the polls' LLENs are left in */
		res->cmds = (double)w.calls / (double)opt.peer_leads;
	res->rate = (double)opt.peer_leads / res->secs;
	res->redis_cpu_us = (cpu1 - cpu0) * 1e6 / (double)opt.peer_leads;
	res->results = cmd_int(c, "EVAL %s 0",
	    "return #redis.call('KEYS', 'peer:lead:*')");
	res->ok = res->results == opt.peer_leads;
	if (!res->ok)
		say("peer: %lld result hashes for %ld jobs", res->results,
		    opt.peer_leads);
	say("peer: %.0f jobs/s", res->rate);
out:
	if (pid > 0)
		stop_pid(pid, SIGTERM, 5000);
	if (c != NULL)
		redisFree(c);
	rsrv_stop(&r);
}

/* --- part 2: latency ------------------------------------------------------- */

struct lat_result {
	bool ok;
	long offered;
	double achieved;
	long pushed, samples;
	double p50, p99, p999, max;
	/* while measuring: share of one core, commands, script calls, cost */
	double redis_cpu, daemon_cpu, bench_cpu, cmds, script_calls,
	    usec_per_script_call;
	double forks, kids_cpu;	/* AOF rewrites started, their CPU (share) */
	double rewrite_share;	/* of the time, an AOF rewrite ran */
	long calm_samples;	/* leads pushed while none ran (±100 ms) */
	double calm_p99;
};


struct sub {
	redisContext *c;
	long long from_us;	/* samples of leads pushed before are warm-up */
	/* per sample: push time, latency, Redis's assigned_at_ms - push (µs) */
	long long *v;
	size_t n, cap;
	long long messages;
	bool failed;
};

static void *
sub_main(void *arg)
{
	struct sub *s = arg;
	redisReply *r;
	json_error_t err;

	for (;;) {
		long long now, t;
		json_t *j;

		if (redisGetReply(s->c, (void **)&r) != REDIS_OK) {
			s->failed = true;
			return NULL;
		}
		now = real_us();
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
		    r->element[2]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			continue;
		}
		if (strcmp(r->element[2]->str, STOP_CHANNEL_MSG) == 0) {
			freeReplyObject(r);
			return NULL;
		}
		s->messages++;
		j = json_loadb(r->element[2]->str, r->element[2]->len, 0, &err);
		t = json_integer_value(json_object_get(json_object_get(j,
		    "lead"), "bench_t_us"));
		if (t > 0 && t >= __atomic_load_n(&s->from_us, __ATOMIC_ACQUIRE)) {
			if (s->n == s->cap) {
				size_t cap = s->cap ? s->cap * 2 : 65536;
				long long *v = realloc(s->v, 3 * cap * sizeof(*v));

				if (v == NULL) {
					s->failed = true;
					json_decref(j);
					freeReplyObject(r);
					return NULL;
				}
				s->v = v;
				s->cap = cap;
			}
			s->v[3 * s->n] = t;
			s->v[3 * s->n + 1] = now - t;
			s->v[3 * s->n + 2] = json_integer_value(json_object_get(j,
			    "assigned_at_ms")) * 1000 - t;
			s->n++;
		}
		json_decref(j);
		freeReplyObject(r);
	}
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(const long long *v, size_t n, double p)
{
	size_t i = (size_t)ceil(p * (double)n);

	if (n == 0)
		return -1;
	i = i == 0 ? 0 : i - 1;
	return (double)v[i < n ? i : n - 1] / 1000.0;
}

/*
 * A producer's connection that never waits for a reply before the next
 * push: each LPUSH is written at its time, and the replies (one line each,
 * ":<n>" or "-<error>") are drained without blocking in between.
 */
struct pusher {
	int fd;
	long sent, replies, errors;
	bool bol;		/* at the beginning of a reply line */
};

static int
pusher_open(struct pusher *p, int port)
{
	struct sockaddr_in sin;
	int one = 1;

	memset(p, 0, sizeof(*p));
	p->bol = true;
	if ((p->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(p->fd);
		return -1;
	}
	return 0;
}

/* Read what replies have come; block until all have when wait. */
static int
pusher_drain(struct pusher *p, bool wait)
{
	char buf[65536];
	ssize_t n;

	while (p->replies < p->sent || !wait) {
		n = recv(p->fd, buf, sizeof(buf), wait ? 0 : MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (p->bol && buf[i] == '-')
				p->errors++;
			p->bol = buf[i] == '\n';
			p->replies += p->bol;
		}
	}
	return 0;
}

/* Queue one LPUSH into out (grown as needed); -1 on ENOMEM. */
static int
pusher_add(char **out, size_t *len, size_t *cap, const char *k,
    const char *lead, size_t n)
{
	char *cmdbuf, *grown;
	int m = redisFormatCommand(&cmdbuf, "LPUSH %s %b", k, lead, n);

	if (m < 0)
		return -1;
	if (*len + (size_t)m > *cap) {
		size_t want = (*len + (size_t)m) * 2;

		if ((grown = realloc(*out, want)) == NULL) {
			redisFreeCommand(cmdbuf);
			return -1;
		}
		*out = grown;
		*cap = want;
	}
	memcpy(*out + *len, cmdbuf, (size_t)m);
	*len += (size_t)m;
	redisFreeCommand(cmdbuf);
	return 0;
}

/* Write the queued LPUSHes (count of them) at once, then drain replies. */
static int
pusher_write(struct pusher *p, const char *buf, size_t len, long count)
{
	ssize_t w;

	for (size_t off = 0; off < len; off += (size_t)w)
		if ((w = write(p->fd, buf + off, len - off)) == -1) {
			if (errno != EINTR)
				return -1;
			w = 0;
		}
	p->sent += count;
	return pusher_drain(p, false);
}

/* AOF rewrites seen while pushing (realtime µs), polled every 10 ms. */
#define MAX_REWRITES 64
#define REWRITE_MARGIN_US 100000

struct rewrites {
	long long at[MAX_REWRITES][2];
	int n;
	bool open;
};

static void
rewrites_poll(redisContext *c, struct rewrites *rw, long long now)
{
	double busy = info_num(c, "persistence", "aof_rewrite_in_progress");

	if (busy > 0 && !rw->open && rw->n < MAX_REWRITES) {
		rw->at[rw->n][0] = now;
		rw->open = true;
	} else if (busy == 0 && rw->open) {
		rw->at[rw->n++][1] = now;
		rw->open = false;
	}
}

static bool
during_rewrite(const struct rewrites *rw, long long t)
{
	for (int i = 0; i < rw->n; i++)
		if (t >= rw->at[i][0] - REWRITE_MARGIN_US &&
		    t <= rw->at[i][1] + REWRITE_MARGIN_US)
			return true;
	return false;
}

/* Percentiles of every sample, and of those pushed while no rewrite ran. */
static void
lat_stats(struct lat_result *res, const struct sub *s,
    const struct rewrites *rw)
{
	long long *all = malloc((s->n + 1) * sizeof(*all));
	long long *calm = malloc((s->n + 1) * sizeof(*calm));
	size_t ncalm = 0;

	if (all == NULL || calm == NULL) {
		free(all);
		free(calm);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		all[i] = s->v[3 * i + 1];
		if (!during_rewrite(rw, s->v[3 * i]))
			calm[ncalm++] = s->v[3 * i + 1];
	}
	qsort(all, s->n, sizeof(*all), cmp_ll);
	qsort(calm, ncalm, sizeof(*calm), cmp_ll);
	res->samples = (long)s->n;
	res->p50 = pct_ms(all, s->n, 0.50);
	res->p99 = pct_ms(all, s->n, 0.99);
	res->p999 = pct_ms(all, s->n, 0.999);
	res->max = s->n ? (double)all[s->n - 1] / 1000.0 : -1;
	res->calm_samples = (long)ncalm;
	res->calm_p99 = pct_ms(calm, ncalm, 0.99);
	res->rewrite_share = 0;
	for (int i = 0; i < rw->n; i++)
		res->rewrite_share += (double)(rw->at[i][1] - rw->at[i][0]);
	res->rewrite_share /= (double)opt.lat_secs * 1e6;
	free(all);
	free(calm);
}

/* BENCH_LAT_DUMP: push time, latency, assigned_at_ms - push time (µs). */
static void
lat_dump(const struct sub *s, long rate)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/lat-%ld.txt", opt.work, rate);
	if ((f = fopen(path, "w")) == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%lld %lld %lld\n", s->v[3 * i], s->v[3 * i + 1],
		    s->v[3 * i + 2]);
	fclose(f);
}

/*
 * Push at rate/s for warm-up + opt.lat_secs, one LPUSH per lead, paced on
 * a 1 ms tick (or the period, when longer): at each tick the leads whose
 * time has come are written, each stamped with the time of the write.
 */
static void
lat_run(struct lat_result *res, redisContext *c, int port, pid_t pid,
    long rate, long *next_i)
{
	double rcpu0 = 0, rcpu1, kids0 = 0, kids1, dcpu0 = 0, bcpu0 = 0;
	double forks0 = 0;
	struct work w;
	long warm = rate * opt.lat_warmup_ms / 1000;
	long total = warm + rate * opt.lat_secs, polls = 0;
	long long period_ns = 1000000000LL / rate, received0, m0 = 0, m1;
	long long tick_ns = period_ns > 1000000 ? period_ns : 1000000;
	long reset_at = 0;	/* our LPUSHes before CONFIG RESETSTAT */
	char *wbuf = NULL;
	size_t wlen = 0, wcap = 0;
	struct sub s = {0};
	struct rewrites rw = {0};
	struct pusher pu;
	struct timespec start, at;
	char k[128], chan[128], buf[1024];
	pthread_t th;
	redisReply *r;

	memset(res, 0, sizeof(*res));
	res->offered = rate;
	say("latency at %ld leads/s: %.1f s of warm-up, then %ld s", rate,
	    (double)opt.lat_warmup_ms / 1000, opt.lat_secs);
	key(k, sizeof(k), "incoming");
	key(chan, sizeof(chan), "assignments");
	if (pusher_open(&pu, port) == -1)
		return;
	if ((s.c = connect_port(port)) == NULL ||
	    (r = cmd(s.c, "SUBSCRIBE %s", chan)) == NULL) {
		if (s.c != NULL)
			redisFree(s.c);
		close(pu.fd);
		return;
	}
	freeReplyObject(r);
	s.from_us = LLONG_MAX;
	received0 = stat_field(c, "received");
	if (pthread_create(&th, NULL, sub_main, &s) != 0) {
		redisFree(s.c);
		close(pu.fd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0, tick = 0; i < total; tick++) {
		long long off = tick_ns * tick, t, since;
		long due;

		at.tv_sec = start.tv_sec + (time_t)((start.tv_nsec + off) /
		    1000000000LL);
		at.tv_nsec = (long)((start.tv_nsec + off) % 1000000000LL);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at,
		    NULL) == EINTR)
			;
		since = (mono_us() - (long long)start.tv_sec * 1000000 -
		    start.tv_nsec / 1000) * 1000;
		if ((due = (long)(since / period_ns) + 1) > total)
			due = total;
		if (m0 > 0 && tick % 10 == 0)
			rewrites_poll(c, &rw, real_us());
		if (due <= i)
			continue;
		t = real_us();
		if (i <= warm && warm < due) {
			/* samples count from here; the subscriber reads it */
			__atomic_store_n(&s.from_us, t, __ATOMIC_RELEASE);
			freeReplyObject(cmd(c, "CONFIG RESETSTAT"));
			redis_cpu(c, &rcpu0, &kids0);
			forks0 = info_num(c, "stats", "total_forks");
			dcpu0 = proc_cpu_s(pid);
			bcpu0 = self_cpu_s();
			reset_at = i;
			m0 = mono_us();
			t = real_us();
		}
		wlen = 0;
		for (long n = i; n < due; n++) {
			size_t len = gen_lead(buf, sizeof(buf), "l", *next_i + n,
			    GEN_MIX, t);

			if (pusher_add(&wbuf, &wlen, &wcap, k, buf, len) == -1)
				break;
		}
		if (pusher_write(&pu, wbuf, wlen, due - i) == -1)
			break;
		i = due;
	}
	free(wbuf);
	m1 = mono_us();
	if (rw.open)
		rw.at[rw.n++][1] = real_us();
	redis_cpu(c, &rcpu1, &kids1);
	res->redis_cpu = (rcpu1 - rcpu0) * 1e6 / (double)(m1 - m0);
	res->kids_cpu = (kids1 - kids0) * 1e6 / (double)(m1 - m0);
	res->forks = info_num(c, "stats", "total_forks") - forks0;
	res->daemon_cpu = (proc_cpu_s(pid) - dcpu0) * 1e6 / (double)(m1 - m0);
	res->bench_cpu = (self_cpu_s() - bcpu0) * 1e6 / (double)(m1 - m0);
	if (work_read(c, 0, pu.sent - reset_at, &w) == 0) {
		res->cmds = (double)w.calls / (double)(pu.sent - warm);
		res->script_calls = (double)w.scripts / (double)(pu.sent - warm);
		res->usec_per_script_call = w.scripts ?
		    (double)w.script_usec / (double)w.scripts : 0;
	}
	res->pushed = pu.sent;
	*next_i += total;
	res->achieved = (double)(res->pushed - warm) * 1e6 / (double)(m1 - m0);
	if (pusher_drain(&pu, true) == 0 && pu.errors == 0 &&
	    res->pushed == total &&
	    wait_committed(c, received0 + total, &polls, NULL, 0)) {
		sleep_ms(100);	/* the last messages are on their way */
		res->ok = true;
	}
	close(pu.fd);
	freeReplyObject(cmd(c, "PUBLISH %s %s", chan, STOP_CHANNEL_MSG));
	pthread_join(th, NULL);
	redisFree(s.c);
	if (s.failed)
		res->ok = false;
	lat_stats(res, &s, &rw);
	if (getenv("BENCH_LAT_DUMP") != NULL)
		lat_dump(&s, rate);
	free(s.v);
	say("latency at %ld leads/s: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms",
	    rate, res->p50, res->p99, res->p999, res->max);
}

static void
part_lat(struct lat_result res[2])
{
	static const long rates[2] = {1000, 10000};
	char conf[PATH_MAX + 32], log[PATH_MAX + 32];
	redisContext *c = NULL;
	pid_t pid = 0;
	long next_i = 0;
	struct rsrv r;

	memset(res, 0, 2 * sizeof(*res));
	if (rsrv_start(&r, "lat") == -1)
		return;
	snprintf(conf, sizeof(conf), "%s/leadrouted.conf", r.dir);
	snprintf(log, sizeof(log), "%s/leadrouted.log", r.dir);
	if (write_conf(conf, r.port, 0, 0, 0) == -1 ||
	    (c = connect_port(r.port)) == NULL ||
	    (pid = daemon_start(conf, log)) == -1 || !wait_instances(c, 1)) {
		say("cannot set up the latency run; see %s", r.dir);
		goto out;
	}
	for (int i = 0; i < 2; i++)
		lat_run(&res[i], c, r.port, pid, rates[i], &next_i);
out:
	if (pid > 0 && daemon_stop(pid) != 0)
		say("leadrouted did not exit 0; see %s", log);
	if (c != NULL)
		redisFree(c);
	rsrv_stop(&r);
}

/* --- part 3: SLA timers at scale ------------------------------------------- */

struct sla_result {
	bool ok;
	long leads, overdue;
	double load_secs, load_rate;
	long rss_kb, hwm_kb;		/* the daemon holding N timers */
	long anon_kb;			/* of rss_kb, its own (not files') */
	double used_memory, bytes_per_lead;
	long long timers;
	/* MEMORY USAGE, bytes per lead, of what each assignment keeps */
	double mem_record, mem_inbox, mem_due, mem_open, mem_window;
	/* the records sampled: how many in listpack encoding, the fields
	 * over hash-max-listpack-value (name: how many records, mean bytes),
	 * and the same records copied with Redis's default (MEM_LP_OTHER) */
	long rec_sampled, rec_listpack;
	long lp_limit;
	char rec_big[256];
	double mem_record_lp;
	double first_ms, all_ms;
	long fired;
	long rss2_kb, hwm2_kb;		/* the restarted daemon, after firing */
};

/* Bytes of a key per element, MEMORY USAGE with every element sampled. */
static double
mem_key(redisContext *c, const char *k)
{
	long long b = cmd_int(c, "MEMORY USAGE %s SAMPLES 0", k);

	return b < 0 ? 0 : (double)b;
}

/*
 * The records of MEM_SAMPLE leads: mean MEMORY USAGE, their encoding, the
 * fields longer than hash-max-listpack-value (what makes a hash leave the
 * compact encoding), and the mean MEMORY USAGE of the same fields copied
 * into a scratch key with that limit set to Redis's default, MEM_LP_OTHER
 * (restored after): what the README's recommended setting saves.
 */
#define MEM_SAMPLE 100
#define MEM_LP_OTHER 64

static const char record_lua[] =
    "local lim, out = tonumber(ARGV[1]), {}\n"
    "local a = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #a, 2 do\n"
    "  if #a[i + 1] > lim then out[#out + 1] = a[i]; out[#out + 1] = #a[i + 1] end\n"
    "end\n"
    "return out\n";
static const char copy_lua[] =
    "local a = redis.call('HGETALL', KEYS[1])\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('HSET', KEYS[2], unpack(a))\n"
    "local m = redis.call('MEMORY', 'USAGE', KEYS[2], 'SAMPLES', 0)\n"
    "redis.call('DEL', KEYS[2])\n"
    "return m\n";

static void
record_memory(redisContext *c, struct sla_result *res)
{
	struct {
		char name[48];
		long n;
		double bytes;
	} big[16];
	int nbig = 0;
	double sum = 0, sum_lp = 0;
	char k[256], old[32] = "64";
	redisReply *r;
	size_t len = 0;

	res->lp_limit = 64;
	if ((r = cmd(c, "CONFIG GET hash-max-listpack-value")) != NULL) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
			snprintf(old, sizeof(old), "%s", r->element[1]->str);
			res->lp_limit = strtol(old, NULL, 10);
		}
		freeReplyObject(r);
	}
	for (long i = 1; i <= MEM_SAMPLE && i <= res->leads; i++) {
		snprintf(k, sizeof(k), "%slead:s-%ld", opt.prefix, i);
		sum += mem_key(c, k);
		res->rec_sampled++;
		if ((r = cmd(c, "OBJECT ENCODING %s", k)) != NULL) {
			if (r->type == REDIS_REPLY_STRING &&
			    (strcmp(r->str, "listpack") == 0 ||
			    strcmp(r->str, "ziplist") == 0))
				res->rec_listpack++;
			freeReplyObject(r);
		}
		if ((r = cmd(c, "EVAL %s 1 %s %ld", record_lua, k,
		    res->lp_limit)) == NULL)
			continue;
		for (size_t e = 0; r->type == REDIS_REPLY_ARRAY &&
		    e + 1 < r->elements; e += 2) {
			int b = 0;

			while (b < nbig && strcmp(big[b].name, r->element[e]->str) != 0)
				b++;
			if (b == nbig && nbig < 16) {
				snprintf(big[nbig].name, sizeof(big[nbig].name),
				    "%s", r->element[e]->str);
				big[nbig].n = 0;
				big[nbig++].bytes = 0;
			}
			if (b < nbig) {
				big[b].n++;
				big[b].bytes += (double)r->element[e + 1]->integer;
			}
		}
		freeReplyObject(r);
	}
	if (res->rec_sampled == 0)
		return;
	res->mem_record = sum / (double)res->rec_sampled;
	for (int b = 0; b < nbig; b++)
		len += (size_t)snprintf(res->rec_big + len,
		    len < sizeof(res->rec_big) ? sizeof(res->rec_big) - len : 0,
		    "%s`%s` in %ld, %.0f bytes", b ? "; " : "", big[b].name,
		    big[b].n, big[b].bytes / (double)big[b].n);
	freeReplyObject(cmd(c, "CONFIG SET hash-max-listpack-value %d", MEM_LP_OTHER));
	for (long i = 1; i <= res->rec_sampled; i++) {
		snprintf(k, sizeof(k), "%slead:s-%ld", opt.prefix, i);
		sum_lp += (double)cmd_int(c, "EVAL %s 2 %s bench:copy", copy_lua, k);
	}
	freeReplyObject(cmd(c, "CONFIG SET hash-max-listpack-value %s", old));
	res->mem_record_lp = sum_lp / (double)res->rec_sampled;
}

static void
sla_memory(redisContext *c, struct sla_result *res)
{
	char k[256];
	redisReply *r;
	double inbox = 0, open = 0, window = 0, n = (double)res->leads;

	record_memory(c, res);
	key(k, sizeof(k), "sla:due");
	res->mem_due = mem_key(c, k) / n;
	/* Every rep's inbox, open set and window, from the keys that exist. */
	key(k, sizeof(k), "rep:*:inbox");
	if ((r = cmd(c, "KEYS %s", k)) == NULL)
		return;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		char other[256];
		size_t len = r->element[i]->len - strlen(":inbox");

		inbox += mem_key(c, r->element[i]->str);
		snprintf(other, sizeof(other), "%.*s:open", (int)len,
		    r->element[i]->str);
		open += mem_key(c, other);
		snprintf(other, sizeof(other), "%.*s:window", (int)len,
		    r->element[i]->str);
		window += mem_key(c, other);
	}
	freeReplyObject(r);
	res->mem_inbox = inbox / n;
	res->mem_open = open / n;
	res->mem_window = window / n;
}

/* Rewrite the first n deadlines of lr:sla:due to a minute ago (Redis's clock). */
static const char overdue_lua[] =
    "local k, n = KEYS[1], tonumber(ARGV[1])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local m = redis.call('ZRANGE', k, 0, n - 1)\n"
    "local base, a = now - 60000 - #m, {}\n"
    "for i, id in ipairs(m) do\n"
    "  a[#a + 1] = string.format('%d', base + i)\n"
    "  a[#a + 1] = id\n"
    "  if #a >= 2000 then redis.call('ZADD', k, 'XX', unpack(a)); a = {} end\n"
    "end\n"
    "if #a > 0 then redis.call('ZADD', k, 'XX', unpack(a)) end\n"
    "return #m\n";

static int
sla_restart(struct sla_result *res, redisContext *c, const char *conf,
    const char *log, pid_t *pid)
{
	char due[128], chan[128];
	redisContext *s;
	redisReply *r;
	struct timeval tv = {30, 0};
	long long t0, first = -1;
	int rc = -1;

	key(due, sizeof(due), "sla:due");
	key(chan, sizeof(chan), "alerts");
	if (cmd_int(c, "EVAL %s 1 %s %ld", overdue_lua, due, res->overdue) !=
	    res->overdue) {
		say("cannot make %ld deadlines overdue", res->overdue);
		return -1;
	}
	if ((s = connect_port(c->tcp.port)) == NULL)
		return -1;
	if ((r = cmd(s, "SUBSCRIBE %s", chan)) == NULL)
		goto out;
	freeReplyObject(r);
	redisSetTimeout(s, tv);		/* a daemon that never fires fails */
	say("SLA: restarting the daemon with %ld deadlines overdue",
	    res->overdue);
	t0 = mono_us();
	if ((*pid = daemon_start(conf, log)) == -1)
		goto out;
	while (res->fired < res->overdue) {
		if (redisGetReply(s, (void **)&r) != REDIS_OK) {
			say("SLA: %ld of %ld alerts arrived; see %s", res->fired,
			    res->overdue, log);
			goto out;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
			if (first < 0)
				first = mono_us();
			res->fired++;
		}
		freeReplyObject(r);
	}
	res->first_ms = (double)(first - t0) / 1000.0;
	res->all_ms = (double)(mono_us() - t0) / 1000.0;
	rc = 0;
out:
	redisFree(s);
	return rc;
}

static void
part_sla(struct sla_result *res)
{
	char conf[PATH_MAX + 32], log[PATH_MAX + 32], log2[PATH_MAX + 32];
	char due[128];
	redisContext *c = NULL;
	double mem0;
	long long t0;
	pid_t pid = 0;
	long polls = 0;
	struct rsrv r;

	memset(res, 0, sizeof(*res));
	res->leads = opt.sla_leads;
	res->overdue = opt.sla_overdue;
	if (rsrv_start(&r, "sla") == -1)
		return;
	snprintf(conf, sizeof(conf), "%s/leadrouted.conf", r.dir);
	snprintf(log, sizeof(log), "%s/leadrouted.log", r.dir);
	snprintf(log2, sizeof(log2), "%s/leadrouted-restart.log", r.dir);
	key(due, sizeof(due), "sla:due");
	/* A day to follow up, no warning: nothing fires while loading. */
	if (write_conf(conf, r.port, 86400, 0, 0) == -1 ||
	    (c = connect_port(r.port)) == NULL ||
	    (mem0 = info_num(c, "memory", "used_memory")) < 0 ||
	    (pid = daemon_start(conf, log)) == -1 || !wait_instances(c, 1)) {
		say("cannot set up the SLA run; see %s", r.dir);
		goto out;
	}
	say("SLA: routing %ld leads, all MQLs (pushed while the daemon runs)",
	    opt.sla_leads);
	t0 = mono_us();
	if (push_many(c, "s", 0, opt.sla_leads, GEN_MQL) == -1 ||
	    !wait_committed(c, opt.sla_leads, &polls, &pid, 1)) {
		say("SLA: the leads were not all routed; see %s", log);
		goto out;
	}
	res->load_secs = (double)(mono_us() - t0) / 1e6;
	res->load_rate = (double)opt.sla_leads / res->load_secs;
	res->timers = cmd_int(c, "ZCARD %s", due);
	sleep_ms(1500);		/* let the heap settle after the last batch */
	res->rss_kb = proc_kb(pid, "VmRSS");
	res->anon_kb = proc_kb(pid, "RssAnon");
	res->hwm_kb = proc_kb(pid, "VmHWM");
	res->used_memory = info_num(c, "memory", "used_memory");
	res->bytes_per_lead = (res->used_memory - mem0) / (double)opt.sla_leads;
	sla_memory(c, res);
	say("SLA: %lld timers outstanding, daemon RSS %ld kB, Redis %.0f bytes per lead",
	    res->timers, res->rss_kb, res->bytes_per_lead);
	if (daemon_stop(pid) != 0)
		say("leadrouted did not exit 0; see %s", log);
	pid = 0;
	if (sla_restart(res, c, conf, log2, &pid) == -1)
		goto out;
	res->rss2_kb = proc_kb(pid, "VmRSS");
	res->hwm2_kb = proc_kb(pid, "VmHWM");
	res->ok = res->timers == opt.sla_leads;
	say("SLA: first alert %.0f ms after the restart, all %ld after %.0f ms",
	    res->first_ms, res->fired, res->all_ms);
out:
	if (pid > 0 && daemon_stop(pid) != 0)
		say("leadrouted did not exit 0; see %s", r.dir);
	if (c != NULL)
		redisFree(c);
	rsrv_stop(&r);
}

/* --- machine ------------------------------------------------------------------ */

struct machine {
	char load_before[64], load_after[64];	/* /proc/loadavg: others at work? */
	long nproc;
	char cpu[256], kernel[256], redis[64], date[64], host[256];
	long mem_mb;
};

static void
loadavg(char *out, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = -1, b = -1, c = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
			a = b = c = -1;
		fclose(f);
	}
	snprintf(out, len, "%.2f %.2f %.2f", a, b, c);
}

static void
machine_read(struct machine *m)
{
	struct utsname u;
	char line[512], *p;
	FILE *f;
	time_t now = time(NULL);
	struct tm tm;

	memset(m, 0, sizeof(*m));
	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	m->mem_mb = (long)((long long)sysconf(_SC_PHYS_PAGES) *
	    sysconf(_SC_PAGESIZE) / (1024 * 1024));
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "model name", 10) == 0 &&
			    (p = strchr(line, ':')) != NULL) {
				p += 1 + strspn(p + 1, " \t");
				p[strcspn(p, "\n")] = '\0';
				snprintf(m->cpu, sizeof(m->cpu), "%s", p);
				break;
			}
		fclose(f);
	}
	if (uname(&u) == 0) {
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.release,
		    u.machine);
		snprintf(m->host, sizeof(m->host), "%s", u.nodename);
	}
	snprintf(m->redis, sizeof(m->redis), "unknown");
	if ((f = popen("redis-server --version 2>/dev/null", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strstr(line, "v=")) != NULL) {
			p[2 + strcspn(p + 2, " \n")] = '\0';
			snprintf(m->redis, sizeof(m->redis), "%s", p + 2);
		}
		pclose(f);
	}
	gmtime_r(&now, &tm);
	strftime(m->date, sizeof(m->date), "%Y-%m-%d %H:%M UTC", &tm);
	loadavg(m->load_before, sizeof(m->load_before));
}

/* --- report ------------------------------------------------------------------- */

struct results {
	struct machine m;
	int nice;		/* of the bench and everything it starts */
	/* others' share of the machine: ref, tput 1, tput 2, lat, sla */
	double noise[7];	/* ... the peer, webhooks on */
	bool ran_ref, ran_tput, ran_lat, ran_sla, ran_hooks;
	struct hooks_result hooks;
	struct ref_result ref;
	struct tput_result tput[2];	/* [0]: the median of the runs */
	struct tput_result runs[TPUT_RUNS];	/* 1 instance, in order */
	int nruns;
	struct peer_result peer;
	bool ran_peer;
	struct lat_result lat[2];
	struct sla_result sla;
	double bench_secs;
};

struct target {
	const char *what, *goal;
	double value;
	const char *unit;
	bool ran, met;
};

static int
targets(const struct results *R, struct target t[NTARGETS])
{
	const struct tput_result *t1 = &R->tput[0];
	const struct sla_result *s = &R->sla;
	long peak = s->hwm_kb > s->hwm2_kb ? s->hwm_kb : s->hwm2_kb;

	t[0] = (struct target){"throughput, 1 instance", "≥ 50,000 leads/s",
	    t1->rate, "leads/s", R->ran_tput && t1->ok,
	    t1->rate >= T_LEADS_PER_S};
	t[1] = (struct target){"Redis commands per lead (scripted ones included)",
	    "≤ 8", t1->cmds, "", R->ran_tput && t1->ok,
	    t1->cmds <= T_CMDS_PER_LEAD};
	t[2] = (struct target){"p99 intake-to-assignment at 1,000 leads/s",
	    "≤ 1 ms", R->lat[0].p99, "ms", R->ran_lat && R->lat[0].ok,
	    R->lat[0].p99 <= T_P99_1K_MS};
	t[3] = (struct target){"p99 intake-to-assignment at 10,000 leads/s",
	    "≤ 5 ms", R->lat[1].p99, "ms", R->ran_lat && R->lat[1].ok,
	    R->lat[1].p99 <= T_P99_10K_MS};
	t[4] = (struct target){"daemon peak RSS with 1,000,000 timers",
	    "≤ 8 MB", (double)peak / 1024.0, "MB", R->ran_sla && s->ok,
	    peak <= T_SLA_RSS_KB};
	t[5] = (struct target){"restart to first overdue alert", "≤ 1 s",
	    s->first_ms, "ms", R->ran_sla && s->ok,
	    s->first_ms <= T_FIRST_ALERT_MS};
	t[6] = (struct target){"Redis CPU per lead, 1 instance", "≤ 16 µs",
	    t1->redis_cpu_us, "µs", R->ran_tput && t1->ok,
	    t1->redis_cpu_us <= T_REDIS_US_PER_LEAD};
	t[7] = (struct target){"leads/s ÷ the BullMQ worker's, same run", "≥ 12×",
	    R->peer.rate > 0 ? t1->rate / R->peer.rate : 0, "×",
	    R->ran_tput && t1->ok && R->ran_peer && R->peer.ok,
	    R->peer.rate > 0 && t1->rate / R->peer.rate >= T_PEER_RATIO};
	t[8] = (struct target){"Redis memory per assigned lead (`used_memory`)",
	    "≤ 1.3 KB", s->bytes_per_lead, "bytes", R->ran_sla && s->ok,
	    s->bytes_per_lead <= T_BYTES_PER_LEAD};
	return NTARGETS;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* min / median / max of a field over the 1-instance runs that succeeded. */
static void
spread3(const struct results *R, size_t off, double out[3])
{
	double v[TPUT_RUNS];
	int n = 0;

	for (int i = 0; i < R->nruns; i++)
		if (R->runs[i].ok)
			v[n++] = *(const double *)(const void *)((const char *)&R->runs[i] + off);
	out[0] = out[1] = out[2] = 0;
	if (n == 0)
		return;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_d);
	out[0] = v[0];
	out[1] = v[n / 2];
	out[2] = v[n - 1];
}

static void
spread_md(FILE *f, const struct results *R)
{
	static const struct {
		const char *what;
		size_t off;
		int prec;
	} col[] = {
		{"leads/s", offsetof(struct tput_result, rate), 0},
		{"Redis CPU µs/lead", offsetof(struct tput_result, redis_cpu_us), 1},
		{"in scripts µs/lead", offsetof(struct tput_result, script_us), 1},
		{"their commands µs/lead", offsetof(struct tput_result, inner_us), 1},
		{"daemon CPU µs/lead", offsetof(struct tput_result, daemon_cpu_us), 1},
	};
	double v[3];

	fprintf(f, "\nSpread over %d runs of 1 instance (load average when each started:", R->nruns);
	for (int i = 0; i < R->nruns; i++)
		fprintf(f, "%s %s%s", i ? ";" : "", R->runs[i].load,
		    R->runs[i].ok ? "" : " (failed)");
	fprintf(f, ")\n\n| measure | min | median | max |\n|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(col) / sizeof(col[0]); i++) {
		spread3(R, col[i].off, v);
		fprintf(f, "| %s | %.*f | %.*f | %.*f |\n", col[i].what,
		    col[i].prec, v[0], col[i].prec, v[1], col[i].prec, v[2]);
	}
}

/* The webhooks-on run beside the median run without. */
static void
hooks_md(FILE *f, const struct results *R)
{
	const struct hooks_result *h = &R->hooks;
	const struct tput_result *t = &R->tput[0];

	fprintf(f, "\n**Webhooks on**: the throughput run with one endpoint "
	    "for `lead.assigned` (Standard Webhooks, signed; a receiver on "
	    "loopback answering 200 at once), 1 instance: until every lead is "
	    "committed, and until every delivery is acknowledged (CPU and "
	    "commands per lead over the whole; load average when it started: "
	    "%s)\n\n", h->load);
	fprintf(f, "| | committed in | leads/s | all delivered in | deliveries/s | Redis cmds/lead | script calls/lead | Redis CPU µs/lead | daemon CPU µs/lead |\n"
	    "|---|---|---|---|---|---|---|---|---|\n");
	if (R->ran_tput && t->ok)
		fprintf(f, "| webhooks off (median run above) | %.2f s | %.0f | – | – | %.2f | %.4f | %.1f | %.1f |\n",
		    t->secs, t->rate, t->cmds, t->script_calls,
		    t->redis_cpu_us, t->daemon_cpu_us);
	if (!h->ok) {
		fprintf(f, "| webhooks on | failed | | | | | | | |\n");
		return;
	}
	fprintf(f, "| webhooks on (%lld deliveries) | %.2f s | %.0f | %.2f s | %.0f | %.2f | %.4f | %.1f | %.1f |\n",
	    h->received, h->commit_secs, h->rate, h->all_secs, h->deliv_rate,
	    h->cmds, h->script_calls, h->redis_cpu_us, h->daemon_cpu_us);
	if (R->ran_tput && t->ok && t->redis_cpu_us > 0 && h->assigned > 0)
		fprintf(f, "\nWith webhooks on, Redis spent %.1f µs more per lead "
		    "(%.1f µs per delivery), the daemon %.1f µs more per lead.\n",
		    h->redis_cpu_us - t->redis_cpu_us,
		    (h->redis_cpu_us - t->redis_cpu_us) *
		    (double)h->leads / (double)h->assigned,
		    h->daemon_cpu_us - t->daemon_cpu_us);
}

static void
peer_md(FILE *f, const struct results *R)
{
	const struct peer_result *p = &R->peer;
	double v[3];

	spread3(R, offsetof(struct tput_result, rate), v);
	fprintf(f, "\n**Peer**: a BullMQ worker (`tests/bench/peer/`, one Node process, concurrency %s) doing a lead's least work on the same Redis settings: pop a job, parse it, score it with a trivial rule, write a result hash, acknowledge; %ld of the same leads as jobs, added before the clock starts (load average when it started: %s)%s\n\n",
	    PEER_CONCURRENCY, p->jobs, p->load, p->ok ? "" : " — failed or skipped");
	fprintf(f, "| | leads/s | Redis CPU µs/lead | Redis cmds/lead | worker CPU µs/lead |\n|---|---|---|---|---|\n");
	fprintf(f, "| leadrouted, 1 instance (median run) | %.0f | %.1f | %.2f | %.1f |\n",
	    R->tput[0].rate, R->tput[0].redis_cpu_us, R->tput[0].cmds,
	    R->tput[0].daemon_cpu_us);
	fprintf(f, "| BullMQ worker | %.0f | %.1f | %.2f | %.1f |\n",
	    p->rate, p->redis_cpu_us, p->cmds, p->worker_cpu_us);
	if (p->ok && p->rate > 0)
		fprintf(f, "\nRatio leadrouted ÷ BullMQ: **%.1f×** in leads/s (%.1f× to %.1f× over the runs' spread), %.1f× in Redis CPU per lead.\n",
		    R->tput[0].rate / p->rate, v[0] / p->rate, v[2] / p->rate,
		    R->tput[0].redis_cpu_us > 0 ?
		    p->redis_cpu_us / R->tput[0].redis_cpu_us : 0);
}

static void
report_md(FILE *f, const struct results *R)
{
	const struct machine *m = &R->m;
	struct target t[NTARGETS];
	int nt = targets(R, t);

	fprintf(f, "Run %s on `%s`: %ld CPUs (`nproc`), %s, %ld MB RAM; "
	    "Linux %s; Redis %s. Load average %s before, %s after. "
	    "Command: `make bench` (the bench itself took %.0f s). Redis, the "
	    "daemons and the load generator ran at nice %d. Redis settings: "
	    "`appendonly yes`, `appendfsync everysec`, "
	    "`hash-max-listpack-value " BENCH_LP_VALUE "`, the rest default.\n\n",
	    m->date, m->host, m->nproc, m->cpu, m->mem_mb, m->kernel, m->redis,
	    m->load_before, m->load_after, R->bench_secs, R->nice);
	fprintf(f, "Other processes' share of the machine's CPU while each part ran "
	    "(from `/proc/stat`, ours subtracted): reference %.0f%%, throughput "
	    "%.0f%% and %.0f%%, webhooks on %.0f%%, latency %.0f%%, SLA %.0f%%.%s\n\n",
	    R->noise[0] * 100, R->noise[1] * 100, R->noise[2] * 100,
	    R->noise[6] * 100, R->noise[3] * 100, R->noise[4] * 100,
	    R->noise[1] < 0.1 && R->noise[3] < 0.1 ? "" : R->nice < 0 ?
	    " Other work shared the machine, at a lower priority than the bench." :
	    " **The machine was busy with other work: the numbers are pessimistic.**");
	fprintf(f, "| target | goal | measured | met |\n|---|---|---|---|\n");
	for (int i = 0; i < nt; i++) {
		if (!t[i].ran)
			fprintf(f, "| %s | %s | not measured | – |\n", t[i].what,
			    t[i].goal);
		else
			fprintf(f, "| %s | %s | %.*f%s%s | %s |\n", t[i].what,
			    t[i].goal, t[i].value >= 100 ? 0 : 2, t[i].value,
			    *t[i].unit ? " " : "", t[i].unit,
			    t[i].met ? "yes" : "**no**");
	}
	if (R->ran_ref) {
		fprintf(f, "\n**Reference** (`redis-benchmark -t lpush,rpop -n %ld -q --csv`, "
		    "50 clients, same Redis settings)%s\n\n", opt.bench_n,
		    R->ref.ok ? "" : " — failed");
		fprintf(f, "| | LPUSH/s | RPOP/s | leads/s (1 instance) ÷ LPUSH | ÷ RPOP |\n|---|---|---|---|---|\n");
		for (int i = 0; i < 2; i++)
			fprintf(f, "| `-P %d` | %.0f | %.0f | %.3f | %.3f |\n",
			    i ? 32 : 1, R->ref.lpush[i], R->ref.rpop[i],
			    R->ref.lpush[i] > 0 ? R->tput[0].rate / R->ref.lpush[i] : 0,
			    R->ref.rpop[i] > 0 ? R->tput[0].rate / R->ref.rpop[i] : 0);
	}
	if (R->ran_tput) {
		fprintf(f, "\n**Throughput**: %ld leads pre-loaded on `lr:incoming`, time until all are committed\n\n",
		    opt.tput_leads);
		fprintf(f, "| instances | seconds | leads/s | Redis cmds/lead | script calls/lead | Redis CPU µs/lead | in scripts µs/lead | of which their commands | of which the Lua interpreter | daemon's other commands µs/lead | outside any command µs/lead | daemon CPU µs/lead | daemon peak RSS | assigned / nurture / dead / duplicate |\n"
		    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < 2; i++) {
			const struct tput_result *x = &R->tput[i];

			if (!x->ok) {
				fprintf(f, "| %d | failed | | | | | | | | | | | | |\n", i + 1);
				continue;
			}
			fprintf(f, "| %d%s | %.2f | %.0f | %.2f | %.4f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f MB%s | %lld / %lld / %lld / %lld |\n",
			    x->inst, i == 0 && R->nruns > 1 ? " (median run)" : "",
			    x->secs, x->rate, x->cmds, x->script_calls,
			    x->redis_cpu_us, x->script_us, x->inner_us,
			    x->script_us - x->inner_us, x->direct_us,
			    x->redis_cpu_us - x->script_us - x->direct_us,
			    x->daemon_cpu_us, (double)(x->hwm_kb[0] > x->hwm_kb[1] ?
			    x->hwm_kb[0] : x->hwm_kb[1]) / 1024.0,
			    x->inst > 1 ? " (larger of two)" : "", x->assigned,
			    x->nurture, x->dead, x->duplicate);
		}
		if (R->nruns > 1)
			spread_md(f, R);
		if (R->tput[0].ok) {
			const struct tput_result *x = &R->tput[0];

			fprintf(f, "\nRedis commands per lead, 1 instance (`INFO commandstats`, those run by scripts included; the bench's own left out):");
			for (int i = 0; i < x->w.ntop; i++)
				fprintf(f, "%s %s %.3f (%.1f µs/call)", i ? "," : "",
				    x->w.top[i].name,
				    (double)x->w.top[i].calls / (double)x->leads,
				    x->w.top[i].calls ? (double)x->w.top[i].usec /
				    (double)x->w.top[i].calls : 0);
			fprintf(f, ". %.0f µs per script call. AOF rewrite (child) CPU: %.2f s.\n",
			    x->evalsha_usec_per_call, x->redis_kids_cpu_s);
			fprintf(f, "\nCeilings from these CPU costs per lead (what no amount of idle time can beat): "
			    "Redis on one core to itself, %.0f leads/s; Redis and the daemon on all %ld CPUs, %.0f leads/s. "
			    "%.0f leads/s needs Redis at most %.0f µs and Redis + daemon at most %.0f µs per lead.\n",
			    1e6 / x->redis_cpu_us, R->m.nproc,
			    (double)R->m.nproc * 1e6 / (x->redis_cpu_us + x->daemon_cpu_us),
			    T_LEADS_PER_S, 1e6 / T_LEADS_PER_S,
			    (double)R->m.nproc * 1e6 / T_LEADS_PER_S);
		}
	}
	if (R->ran_hooks)
		hooks_md(f, R);
	if (R->ran_peer)
		peer_md(f, R);
	if (R->ran_lat) {
		fprintf(f, "\n**Latency**: push (`LPUSH`, one per lead, paced) to arrival of the `lr:assignments` message, assigned leads only, after %.1f s of warm-up\n\n",
		    (double)opt.lat_warmup_ms / 1000);
		fprintf(f, "| offered leads/s | achieved | seconds | samples | p50 ms | p99 ms | p99.9 ms | max ms | p99 ms while no AOF rewrite ran (samples) |\n|---|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < 2; i++) {
			const struct lat_result *x = &R->lat[i];

			fprintf(f, "| %ld | %.0f | %ld | %ld | %.3f | %.3f | %.3f | %.3f | %.3f (%ld) |%s\n",
			    x->offered, x->achieved, opt.lat_secs, x->samples,
			    x->p50, x->p99, x->p999, x->max, x->calm_p99,
			    x->calm_samples, x->ok ? "" : " failed");
		}
		fprintf(f, "\nWhere the CPU went meanwhile (share of one CPU; AOF rewrites: how many started, the share of the time one ran, their CPU):\n\n");
		fprintf(f, "| offered leads/s | Redis | AOF rewrites | daemon | bench | Redis cmds/lead | script calls/lead | µs per script call |\n|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < 2; i++) {
			const struct lat_result *x = &R->lat[i];

			fprintf(f, "| %ld | %.0f%% | %.0f, %.0f%% of the time, %.0f%% | %.0f%% | %.0f%% | %.1f | %.2f | %.0f |\n",
			    x->offered, x->redis_cpu * 100, x->forks,
			    x->rewrite_share * 100, x->kids_cpu * 100,
			    x->daemon_cpu * 100, x->bench_cpu * 100, x->cmds,
			    x->script_calls, x->usec_per_script_call);
		}
	}
	if (R->ran_sla) {
		const struct sla_result *s = &R->sla;

		fprintf(f, "\n**SLA timers at scale**%s\n\n", s->ok ? "" : " — failed");
		fprintf(f, "| measure | value |\n|---|---|\n");
		fprintf(f, "| leads assigned, none followed up (`ZCARD lr:sla:due`) | %lld |\n", s->timers);
		fprintf(f, "| time to route them (pushed pipelined while the daemon ran) | %.1f s (%.0f leads/s) |\n",
		    s->load_secs, s->load_rate);
		fprintf(f, "| daemon RSS / peak RSS holding them (of the RSS, its own memory, `RssAnon`; the rest is shared libraries' pages) | %.1f MB / %.1f MB (%.1f MB) |\n",
		    (double)s->rss_kb / 1024.0, (double)s->hwm_kb / 1024.0,
		    (double)s->anon_kb / 1024.0);
		fprintf(f, "| Redis `used_memory` / per assigned lead | %.0f MB / %.0f bytes |\n",
		    s->used_memory / 1048576.0, s->bytes_per_lead);
		fprintf(f, "| of which (`MEMORY USAGE`, bytes per lead): lead record, rep inbox, `sla:due`, rep open set, rep window | %.0f, %.0f, %.0f, %.0f, %.0f |\n",
		    s->mem_record, s->mem_inbox, s->mem_due, s->mem_open, s->mem_window);
		fprintf(f, "| lead records sampled (`lr:lead:s-1`…): in listpack encoding; fields over `hash-max-listpack-value` %ld (records, mean bytes) | %ld of %ld; %s |\n",
		    s->lp_limit, s->rec_listpack, s->rec_sampled,
		    s->rec_big[0] ? s->rec_big : "none");
		fprintf(f, "| the same records copied with Redis's default `hash-max-listpack-value %d` (`MEMORY USAGE`, mean) | %.0f bytes (%.0f bytes, %.0f%% more) |\n",
		    MEM_LP_OTHER, s->mem_record_lp, s->mem_record_lp - s->mem_record,
		    s->mem_record > 0 ? 100 * (s->mem_record_lp - s->mem_record) / s->mem_record : 0);
		fprintf(f, "| restart → first alert (%ld deadlines overdue) | %.0f ms |\n",
		    s->overdue, s->first_ms);
		fprintf(f, "| restart → all %ld alerts | %.0f ms (%.0f alerts/s after the first) |\n",
		    s->fired, s->all_ms, s->all_ms > s->first_ms ?
		    (double)(s->fired - 1) * 1000.0 / (s->all_ms - s->first_ms) : 0);
		fprintf(f, "| restarted daemon RSS / peak RSS after firing | %.1f MB / %.1f MB |\n",
		    (double)s->rss2_kb / 1024.0, (double)s->hwm2_kb / 1024.0);
	}
}

static json_t *
json_report(const struct results *R)
{
	json_t *j = json_object(), *a, *o;
	struct target t[NTARGETS];
	int nt = targets(R, t);

	json_object_set_new(j, "machine", json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:I}",
	    "loadavg_before", R->m.load_before, "loadavg_after", R->m.load_after,
	    "nproc", (int)R->m.nproc, "cpu_model", R->m.cpu, "kernel",
	    R->m.kernel, "redis_version", R->m.redis, "date", R->m.date,
	    "host", R->m.host, "mem_mb", (json_int_t)R->m.mem_mb));
	json_object_set_new(j, "command", json_string("make bench"));
	json_object_set_new(j, "others_cpu_share", json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}",
	    "reference", R->noise[0], "throughput_1", R->noise[1],
	    "throughput_2", R->noise[2], "latency", R->noise[3], "sla",
	    R->noise[4], "webhooks_on", R->noise[6]));
	json_object_set_new(j, "bench_seconds", json_real(R->bench_secs));
	json_object_set_new(j, "nice", json_integer(R->nice));
	if (R->ran_ref)
		json_object_set_new(j, "reference", json_pack(
		    "{s:b,s:I,s:f,s:f,s:f,s:f}", "ok", R->ref.ok, "requests",
		    (json_int_t)opt.bench_n, "lpush_p1", R->ref.lpush[0],
		    "rpop_p1", R->ref.rpop[0], "lpush_p32", R->ref.lpush[1],
		    "rpop_p32", R->ref.rpop[1]));
	if (R->ran_tput) {
		a = json_array();
		for (int i = 0; i < 2; i++) {
			const struct tput_result *x = &R->tput[i];
			json_t *top = json_object();

			for (int k = 0; k < x->w.ntop; k++)
				json_object_set_new(top, x->w.top[k].name, json_pack(
				    "{s:f,s:f}", "calls_per_lead",
				    (double)x->w.top[k].calls / (double)x->leads,
				    "usec_per_call", x->w.top[k].calls ?
				    (double)x->w.top[k].usec / (double)x->w.top[k].calls : 0.0));
			o = json_pack("{s:b,s:i,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
			    "ok", x->ok, "instances", x->inst, "leads",
			    (json_int_t)x->leads, "seconds", x->secs,
			    "leads_per_s", x->rate, "redis_cmds_per_lead", x->cmds,
			    "script_calls_per_lead", x->script_calls,
			    "usec_per_script_call", x->evalsha_usec_per_call,
			    "redis_cpu_us_per_lead", x->redis_cpu_us,
			    "redis_children_cpu_s", x->redis_kids_cpu_s,
			    "daemon_cpu_us_per_lead", x->daemon_cpu_us,
			    "daemon_peak_rss_kb", (json_int_t)x->hwm_kb[0],
			    "daemon2_peak_rss_kb", (json_int_t)x->hwm_kb[1],
			    "assigned", (json_int_t)x->assigned,
			    "nurture", (json_int_t)x->nurture,
			    "dead", (json_int_t)x->dead,
			    "duplicate", (json_int_t)x->duplicate,
			    "backlog", (json_int_t)x->backlog,
			    "commandstats_top", top);
			json_object_set_new(o, "script_us_per_lead", json_real(x->script_us));
			json_object_set_new(o, "ceiling_redis_one_core", json_real(
			    x->redis_cpu_us > 0 ? 1e6 / x->redis_cpu_us : 0));
			json_object_set_new(o, "ceiling_all_cpus", json_real(
			    (double)R->m.nproc * 1e6 / (x->redis_cpu_us + x->daemon_cpu_us)));
			json_object_set_new(o, "script_commands_us_per_lead",
			    json_real(x->inner_us));
			json_object_set_new(o, "lua_interpreter_us_per_lead",
			    json_real(x->script_us - x->inner_us));
			json_object_set_new(o, "other_commands_us_per_lead",
			    json_real(x->direct_us));
			json_object_set_new(o, "outside_commands_us_per_lead",
			    json_real(x->redis_cpu_us - x->script_us - x->direct_us));
			if (R->ran_ref && R->ref.ok)
				json_object_set_new(o, "ratio_to_reference", json_pack(
				    "{s:f,s:f,s:f,s:f}",
				    "lpush_p1", x->rate / R->ref.lpush[0],
				    "rpop_p1", x->rate / R->ref.rpop[0],
				    "lpush_p32", x->rate / R->ref.lpush[1],
				    "rpop_p32", x->rate / R->ref.rpop[1]));
			json_array_append_new(a, o);
		}
		json_object_set_new(j, "throughput", a);
		a = json_array();
		for (int i = 0; i < R->nruns; i++)
			json_array_append_new(a, json_pack("{s:b,s:f,s:f,s:f,s:f,s:s}",
			    "ok", R->runs[i].ok, "leads_per_s", R->runs[i].rate,
			    "redis_cpu_us_per_lead", R->runs[i].redis_cpu_us,
			    "script_us_per_lead", R->runs[i].script_us,
			    "daemon_cpu_us_per_lead", R->runs[i].daemon_cpu_us,
			    "loadavg", R->runs[i].load));
		json_object_set_new(j, "throughput_runs_1_instance", a);
	}
	if (R->ran_hooks)
		json_object_set_new(j, "webhooks_on", json_pack(
		    "{s:b,s:I,s:f,s:f,s:f,s:f,s:I,s:I,s:f,s:f,s:f,s:f,s:s}",
		    "ok", R->hooks.ok, "leads", (json_int_t)R->hooks.leads,
		    "commit_seconds", R->hooks.commit_secs,
		    "leads_per_s", R->hooks.rate,
		    "all_delivered_seconds", R->hooks.all_secs,
		    "deliveries_per_s", R->hooks.deliv_rate,
		    "assigned", (json_int_t)R->hooks.assigned,
		    "deliveries_received", (json_int_t)R->hooks.received,
		    "redis_cmds_per_lead", R->hooks.cmds,
		    "script_calls_per_lead", R->hooks.script_calls,
		    "redis_cpu_us_per_lead", R->hooks.redis_cpu_us,
		    "daemon_cpu_us_per_lead", R->hooks.daemon_cpu_us,
		    "loadavg", R->hooks.load));
	if (R->ran_peer)
		json_object_set_new(j, "peer_bullmq", json_pack(
		    "{s:b,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:s}", "ok", R->peer.ok,
		    "jobs", (json_int_t)R->peer.jobs, "seconds", R->peer.secs,
		    "leads_per_s", R->peer.rate, "redis_cpu_us_per_lead",
		    R->peer.redis_cpu_us, "redis_cmds_per_lead", R->peer.cmds,
		    "worker_cpu_us_per_lead", R->peer.worker_cpu_us,
		    "ratio_leadrouted_to_peer", R->peer.rate > 0 ?
		    R->tput[0].rate / R->peer.rate : 0.0, "loadavg", R->peer.load));
	if (R->ran_lat) {
		a = json_array();
		for (int i = 0; i < 2; i++) {
			const struct lat_result *x = &R->lat[i];

			json_array_append_new(a, json_pack(
			    "{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:b,s:I,s:f,s:I,s:I,s:I,s:f,s:f,s:f,s:f}",
			    "bench_cpu_share", x->bench_cpu,
			    "aof_rewrites", x->forks, "aof_rewrite_cpu_share", x->kids_cpu,
			    "aof_rewrite_time_share", x->rewrite_share,
			    "p99_ms_no_rewrite", x->calm_p99,
			    "redis_cmds_per_lead", x->cmds, "redis_cpu_share", x->redis_cpu, "daemon_cpu_share",
			    x->daemon_cpu, "script_calls_per_lead", x->script_calls,
			    "usec_per_script_call", x->usec_per_script_call, "ok", x->ok,
			    "offered_per_s", (json_int_t)x->offered, "achieved_per_s",
			    x->achieved, "seconds", (json_int_t)opt.lat_secs,
			    "pushed", (json_int_t)x->pushed, "samples",
			    (json_int_t)x->samples, "p50_ms", x->p50, "p99_ms", x->p99,
			    "p999_ms", x->p999, "max_ms", x->max));
		}
		json_object_set_new(j, "latency", a);
	}
	if (R->ran_sla) {
		const struct sla_result *s = &R->sla;

		json_object_set_new(j, "sla_scale", json_pack(
		    "{s:b,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:I,s:I}",
		    "ok", s->ok, "leads", (json_int_t)s->leads, "timers",
		    (json_int_t)s->timers, "load_seconds", s->load_secs,
		    "load_leads_per_s", s->load_rate,
		    "daemon_rss_kb", (json_int_t)s->rss_kb,
		    "daemon_peak_rss_kb", (json_int_t)s->hwm_kb,
		    "daemon_rss_anon_kb", (json_int_t)s->anon_kb,
		    "redis_used_memory", s->used_memory,
		    "redis_bytes_per_lead", s->bytes_per_lead,
		    "mem_lead_record", s->mem_record,
		    "mem_lead_record_default_encoding", s->mem_record_lp,
		    "mem_inbox_per_lead", s->mem_inbox,
		    "mem_sla_due_per_lead", s->mem_due,
		    "mem_open_set_per_lead", s->mem_open,
		    "mem_window_per_lead", s->mem_window,
		    "overdue", (json_int_t)s->overdue,
		    "restart_to_first_alert_ms", s->first_ms,
		    "restart_to_all_alerts_ms", s->all_ms,
		    "alerts_fired", (json_int_t)s->fired,
		    "restarted_daemon_peak_rss_kb", (json_int_t)s->hwm2_kb));
	}
	a = json_array();
	for (int i = 0; i < nt; i++)
		json_array_append_new(a, t[i].ran ? json_pack(
		    "{s:s,s:s,s:f,s:s,s:b}", "target", t[i].what, "goal", t[i].goal,
		    "value", t[i].value, "unit", t[i].unit, "met", t[i].met) :
		    json_pack("{s:s,s:s,s:n}", "target", t[i].what, "goal",
		    t[i].goal, "value"));
	json_object_set_new(j, "targets", a);
	return j;
}

#define MD_BEGIN "<!-- BEGIN generated by make bench: do not edit by hand -->"
#define MD_END "<!-- END generated by make bench -->"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		len = fread(buf, 1, (size_t)n, f);
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Replace the generated section of RESULTS.md (or start the file). */
static int
update_results_md(const char *path, const char *section)
{
	char *old = slurp(path), *b = NULL, *e = NULL, tmp[PATH_MAX + 8];
	FILE *f;

	if (old != NULL) {
		b = strstr(old, MD_BEGIN);
		e = b != NULL ? strstr(b, MD_END) : NULL;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		free(old);
		return -1;
	}
	if (b != NULL && e != NULL)
		fprintf(f, "%.*s%s\n\n%s\n%s", (int)(b - old), old, MD_BEGIN,
		    section, e);
	else
		fprintf(f, "# leadrouted benchmark results\n\n%s\n\n%s\n%s\n",
		    MD_BEGIN, section, MD_END);
	free(old);
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		return -1;
	return 0;
}

/* --- priority on a shared machine -------------------------------------- */

static volatile pid_t runner;

static void
forward_signal(int sig)
{
	if (runner > 0)
		kill(runner, sig);
}

/*
 * With autogroup scheduling, nice values only rank threads of one session
 * against each other; sessions share the CPUs evenly. So the bench runs in
 * a session of its own, whose priority it can raise without touching its
 * caller's. This process stays in the caller's session to receive Ctrl-C,
 * forwards signals, and returns the runner's exit status; the runner gets
 * -1 and carries on. Without fork, the bench simply runs here.
 */
static int
run_in_own_session(void)
{
	int status;
	pid_t pid;

	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	signal(SIGHUP, forward_signal);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		(void)setsid();
		return -1;
	}
	runner = pid;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Run ahead of other work (children inherit it); the nice value we got. */
static int
raise_priority(void)
{
	char buf[16];
	int fd;

	snprintf(buf, sizeof(buf), "%d", BENCH_NICE);
	if ((fd = open("/proc/self/autogroup", O_WRONLY)) != -1) {
		if (write(fd, buf, strlen(buf)) == -1)
			say("cannot set the session's priority (autogroup nice %d): %s",
			    BENCH_NICE, strerror(errno));
		close(fd);
	}
	if (setpriority(PRIO_PROCESS, 0, BENCH_NICE) == -1)
		say("cannot raise priority (nice %d): %s; running at nice 0",
		    BENCH_NICE, strerror(errno));
	errno = 0;
	return getpriority(PRIO_PROCESS, 0);
}

/* --- main --------------------------------------------------------------------- */

/* --- A/B: two builds run alternately (-B) ----------------------------------- */

/*
 * This machine's speed drifts by a third within minutes (RESULTS.md), more
 * than most changes: a before/after comparison is only sound between runs
 * made close together. -B runs the tput (1 instance) and hooks parts with
 * the two builds alternately (A B, B A, A B), and prints each
 * measure's median for both and their ratio; nothing else runs and
 * RESULTS.md is not touched.
 */
#define AB_ROUNDS 3

static double
median_of(const double *v, int n)
{
	double s[AB_ROUNDS];

	for (int i = 0; i < n; i++) {
		int k = i;

		for (; k > 0 && s[k - 1] > v[i]; k--)
			s[k] = s[k - 1];
		s[k] = v[i];
	}
	return n > 0 ? s[n / 2] : 0;
}

/* One row: the medians over the rounds that succeeded, each run listed. */
static void
ab_row(FILE *f, json_t *j, const char *what, const double v[2][AB_ROUNDS],
    const bool ok[2][AB_ROUNDS], int rounds)
{
	double m[2], got[AB_ROUNDS];
	int n;

	fprintf(f, "| %s |", what);
	for (int k = 0; k < 2; k++) {
		n = 0;
		for (int r = 0; r < rounds; r++)
			if (ok[k][r])
				got[n++] = v[k][r];
		m[k] = median_of(got, n);
		fprintf(f, " %.1f (", m[k]);
		for (int r = 0; r < rounds; r++) {
			if (ok[k][r])
				fprintf(f, "%s%.1f", r ? ", " : "", v[k][r]);
			else
				fprintf(f, "%sfailed", r ? ", " : "");
		}
		fprintf(f, ") |");
	}
	/* The ratio of each round's pair, then their median: a drift of the
	 * machine's speed over the rounds cancels within a pair. */
	n = 0;
	for (int r = 0; r < rounds; r++)
		if (ok[0][r] && ok[1][r] && v[0][r] > 0)
			got[n++] = v[1][r] / v[0][r];
	fprintf(f, " %.3f |\n", median_of(got, n));
	json_object_set_new(j, what, json_pack("{s:f,s:f,s:f}", "a", m[0],
	    "b", m[1], "b_over_a", median_of(got, n)));
}

static bool part(const char *name);

static int
ab_main(const char *a_copy)
{
	const char *a_name = opt.daemon_bin;
	char out[PATH_MAX + 16];
	static struct tput_result tp[2][AB_ROUNDS];
	static struct hooks_result hk[2][AB_ROUNDS];
	char b_copy[PATH_MAX];
	const char *bins[2] = {a_copy, b_copy};
	double v[2][AB_ROUNDS];
	bool ok[2][AB_ROUNDS];
	bool do_tput = part("tput"), do_hooks = part("hooks");
	json_t *j = json_object();
	char *md = NULL;
	size_t mdlen = 0;
	FILE *f;
	int rc = 0;

	if (access(opt.vs_bin, X_OK) == -1 ||
	    copy_daemon(opt.vs_bin, "leadrouted-b", b_copy,
	    sizeof(b_copy)) == -1) {
		say("cannot run '%s': %s", opt.vs_bin, strerror(errno));
		return 1;
	}
	if (!do_tput && !do_hooks) {
		say("-B compares the tput and hooks parts: name one with -p");
		return 2;
	}
	/* A first in odd rounds, B first in even ones: neither always runs
	 * right after the other's heavier part. */
	for (int r = 0; r < AB_ROUNDS; r++)
		for (int i = 0; i < 2; i++) {
			int k = r % 2 == 0 ? i : 1 - i;

			opt.daemon_bin = bins[k];
			say("A/B round %d: %s", r + 1, k == 0 ? "A" : "B");
			if (do_tput)
				part_tput(&tp[k][r], 1);
			if (do_hooks)
				part_hooks(&hk[k][r]);
		}
	if ((f = open_memstream(&md, &mdlen)) == NULL)
		return 1;
	fprintf(f, "**A/B**: A = `%s`, B = `%s`, run alternately (A B, B A, A B), %d rounds of %ld leads; the median of each, every run's value in brackets\n\n"
	    "| measure | A | B | B ÷ A (median of the rounds' ratios) |\n|---|---|---|---|\n",
	    a_name, opt.vs_bin, AB_ROUNDS,
	    opt.tput_leads);
#define AB(what, arr, field) do {					\
	for (int k = 0; k < 2; k++)					\
		for (int r = 0; r < AB_ROUNDS; r++) {			\
			v[k][r] = (arr)[k][r].field;			\
			ok[k][r] = (arr)[k][r].ok;			\
			if (!ok[k][r])					\
				rc = 1;					\
		}							\
	ab_row(f, j, what, (const double (*)[AB_ROUNDS])v,		\
	    (const bool (*)[AB_ROUNDS])ok, AB_ROUNDS);			\
} while (0)
	if (do_tput) {
		AB("throughput: leads/s", tp, rate);
		AB("throughput: Redis CPU µs/lead", tp, redis_cpu_us);
		AB("throughput: Redis cmds/lead", tp, cmds);
		AB("throughput: daemon CPU µs/lead", tp, daemon_cpu_us);
	}
	if (do_hooks) {
		AB("webhooks on: leads/s committed", hk, rate);
		AB("webhooks on: deliveries/s", hk, deliv_rate);
		AB("webhooks on: Redis CPU µs/lead", hk, redis_cpu_us);
		AB("webhooks on: Redis cmds/lead", hk, cmds);
		AB("webhooks on: daemon CPU µs/lead", hk, daemon_cpu_us);
	}
#undef AB
	fclose(f);
	printf("\n%s\n", md);
	free(md);
	json_object_set_new(j, "a", json_string(a_name));
	json_object_set_new(j, "b", json_string(opt.vs_bin));
	/* Not over a full run's results unless asked (-o). */
	snprintf(out, sizeof(out), "%s/ab.json", opt.work);
	if (json_dump_file(j, opt.json_set ? opt.json_out : out,
	    JSON_INDENT(2) | JSON_SORT_KEYS) == -1)
		rc = 1;
	json_decref(j);
	if (rc != 0)
		say("some runs failed (see above)");
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench [-q] [-d leadrouted] [-B other-leadrouted] [-c example.conf]\n"
	    "             [-w workdir] [-o results.json] [-r RESULTS.md]\n"
	    "             [-p ref,tput,hooks,peer,lat,sla] [-l latency-seconds]\n"
	    "             [-P peer-dir]\n"
	    "  -q  quick: a tenth of the leads and timers, 3 s latency runs\n"
	    "  -B  A/B: only the tput and hooks parts (of -p), run with -d's build\n"
	    "      and this one alternately, 3 rounds; their medians side by side\n"
	    "  -l  seconds of each latency run (default 20)\n"
	    "  -p  the parts to run (default all: ref,tput,hooks,peer,lat,sla)\n"
	    "  -P  where peer.mjs and its node_modules are (build/bench/peer)\n"
	    "RESULTS.md (-r) is only written by a full run with the defaults.\n");
	exit(2);
}

static bool
part(const char *name)
{
	const char *p = strstr(opt.parts, name);
	size_t n = strlen(name);

	return p != NULL && (p == opt.parts || p[-1] == ',') &&
	    (p[n] == '\0' || p[n] == ',');
}

int
main(int argc, char **argv)
{
	static struct results R;
	char daemon_copy[PATH_MAX];
	struct noise nz;
	char *md = NULL;
	size_t mdlen = 0;
	long long t0 = mono_us();
	json_t *j;
	FILE *f;
	int ch, rc = 0;
	long lat_secs = 0;

	while ((ch = getopt(argc, argv, "qd:B:c:w:o:r:p:l:P:")) != -1) {
		switch (ch) {
		case 'q':
			opt.quick = true;
			break;
		case 'd':
			opt.daemon_bin = optarg;
			break;
		case 'B':
			opt.vs_bin = optarg;
			break;
		case 'c':
			opt.conf_in = optarg;
			break;
		case 'w':
			opt.work = optarg;
			break;
		case 'o':
			opt.json_out = optarg;
			opt.json_set = true;
			break;
		case 'r':
			opt.results_md = optarg;
			break;
		case 'p':
			opt.parts = optarg;
			break;
		case 'l':
			lat_secs = strtol(optarg, NULL, 10);
			break;
		case 'P':
			opt.peer_dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (opt.quick) {
		opt.tput_leads /= 10;
		opt.lat_secs = 3;
		opt.sla_leads /= 10;
		opt.sla_overdue /= 10;
		opt.bench_n /= 10;
		opt.peer_leads /= 10;
	}
	if (lat_secs > 0)
		opt.lat_secs = lat_secs;
	if ((ch = run_in_own_session()) >= 0)
		return ch;
	R.nice = raise_priority();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_children);
	snprintf(daemon_copy, sizeof(daemon_copy), "%s/", opt.work);
	if (strstr(daemon_copy, "/bench/") == NULL) {
		/* rm_rf only ever removes what lies under a ".../bench/"
		 * directory: elsewhere each part would find the previous
		 * part's data (and report absurd rates). */
		say("the work directory '%s' must lie under a directory named bench (e.g. build/bench)",
		    opt.work);
		return 1;
	}
	if (mkdir_p(opt.work) == -1) {
		say("cannot create '%s': %s", opt.work, strerror(errno));
		return 1;
	}
	if (access(opt.daemon_bin, X_OK) == -1 ||
	    copy_daemon(opt.daemon_bin, "leadrouted", daemon_copy,
	    sizeof(daemon_copy)) == -1) {
		say("cannot run '%s': %s", opt.daemon_bin, strerror(errno));
		return 1;
	}
	if (opt.vs_bin != NULL)
		return ab_main(daemon_copy);
	opt.daemon_bin = daemon_copy;
	machine_read(&R.m);
	if ((R.ran_ref = part("ref"))) {
		noise_begin(&nz);
		part_ref(&R.ref);
		R.noise[0] = noise_end(&nz);
	}
	if ((R.ran_tput = part("tput"))) {
		noise_begin(&nz);
		for (R.nruns = 0; R.nruns < TPUT_RUNS; R.nruns++)
			part_tput(&R.runs[R.nruns], 1);
		R.tput[0] = R.runs[median_run(R.runs, R.nruns)];
		R.noise[1] = noise_end(&nz);
		noise_begin(&nz);
		part_tput(&R.tput[1], 2);
		R.noise[2] = noise_end(&nz);
	}
	if ((R.ran_hooks = part("hooks"))) {
		noise_begin(&nz);
		part_hooks(&R.hooks);
		R.noise[6] = noise_end(&nz);
	}
	if ((R.ran_peer = part("peer"))) {
		noise_begin(&nz);
		part_peer(&R.peer);
		R.noise[5] = noise_end(&nz);
	}
	if ((R.ran_lat = part("lat"))) {
		noise_begin(&nz);
		part_lat(R.lat);
		R.noise[3] = noise_end(&nz);
	}
	if ((R.ran_sla = part("sla"))) {
		noise_begin(&nz);
		part_sla(&R.sla);
		R.noise[4] = noise_end(&nz);
	}
	R.bench_secs = (double)(mono_us() - t0) / 1e6;
	loadavg(R.m.load_after, sizeof(R.m.load_after));

	if ((f = open_memstream(&md, &mdlen)) == NULL)
		return 1;
	report_md(f, &R);
	fclose(f);
	printf("\n%s\n", md);
	fflush(stdout);
	j = json_report(&R);
	if (json_dump_file(j, opt.json_out, JSON_INDENT(2) | JSON_SORT_KEYS) == -1) {
		say("cannot write '%s'", opt.json_out);
		rc = 1;
	} else
		say("results in %s", opt.json_out);
	json_decref(j);
	if (opt.results_md != NULL && !opt.quick && lat_secs == 0 &&
	    R.ran_ref && R.ran_tput && R.ran_lat && R.ran_sla) {
		if (update_results_md(opt.results_md, md) == -1) {
			say("cannot update '%s': %s", opt.results_md,
			    strerror(errno));
			rc = 1;
		} else
			say("table updated in %s", opt.results_md);
	}
	free(md);
	if (!(R.ref.ok || !R.ran_ref) || !(R.tput[0].ok || !R.ran_tput) ||
	    !(R.tput[1].ok || !R.ran_tput) ||
	    !((R.lat[0].ok && R.lat[1].ok) || !R.ran_lat) ||
	    !(R.sla.ok || !R.ran_sla) || !(R.hooks.ok || !R.ran_hooks)) {
		say("some measurements failed (see above)");
		rc = 1;
	}
	return rc;
}
