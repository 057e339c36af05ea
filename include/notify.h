/*
 * notify.h - tell systemd how the service is doing (sd_notify(3) protocol):
 * one datagram to $NOTIFY_SOCKET per call; nothing when it is not set.
 */
#ifndef LR_NOTIFY_H
#define LR_NOTIFY_H

/* Send a state such as "READY=1" or "STATUS=routing". 0, or -1 on error. */
int notify_send(const char *state);

/* The watchdog interval systemd asked for ($WATCHDOG_USEC), in ms; 0 = none. */
long notify_watchdog_ms(void);

#endif
