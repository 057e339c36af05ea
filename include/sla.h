/*
 * sla.h - the follow-up SLA's timer loop. The deadlines live in Redis
 * (written by the script that makes each assignment); this module arms one
 * libevent timer for the nearest of them, fires what is due in bounded
 * batches with one script call each, and re-arms from what Redis says is
 * next. Redis's clock decides what is due, so a daemon whose clock is off
 * never fires early; the timer itself runs on the monotonic clock.
 */
#ifndef LR_SLA_H
#define LR_SLA_H

#include <stdbool.h>

struct lrd;
struct sla;

/* Alerts fired per script call: a burst never stalls intake for long. */
#define SLA_BATCH 500

struct sla *sla_new(struct lrd *d);
/* Fire what is due now and re-arm (after registration, reconnects). */
void sla_kick(struct sla *s);
void sla_stop(struct sla *s);
void sla_free(struct sla *s);

#endif
