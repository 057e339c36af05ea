/* log.h - logging to stderr with journald priority prefixes (after OpenBSD log.c). */
#ifndef LR_LOG_H
#define LR_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

/* Priorities, as syslog(3) numbers them; journald reads "<N>" prefixes. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/*
 * Set the most verbose level that is written (default LOG_LEVEL_INFO).
 * Messages go to stderr, one line each, prefixed "<N>" with the priority.
 * When stderr is a terminal the prefix is replaced by "leadrouted: ".
 */
void log_init(enum log_level level, const char *progname);

/* Parse "error", "warning", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at error priority and exit(1). */
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
