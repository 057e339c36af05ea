/*
 * ctl_webhooks.h - leadctl webhooks: the configured webhook endpoints with
 * their pending and dead deliveries and last answer (README "Webhooks");
 * and leadctl webhooks redeliver NAME, which requeues an endpoint's dead
 * deliveries under their webhook-id (each leaves <prefix>webhooks:dead
 * once the daemon has delivered it).
 */
#ifndef LR_CTL_WEBHOOKS_H
#define LR_CTL_WEBHOOKS_H

#include "ctl_common.h"

/* Dead deliveries read from <prefix>webhooks:dead at most. */
#define CTL_WH_DEAD_SCAN 100000

/*
 * One line per endpoint of the configuration (with ctl->json, a JSON
 * array of {"endpoint","format","pending","dead","last_status",
 * "last_error","last_error_at","last_ok_at"}); never the URL, which may
 * hold a token, nor the secret. CTL_OK, or CTL_ERR when Redis fails.
 */
int ctl_webhooks(struct ctl *ctl);

/*
 * Requeue endpoint name's dead deliveries that are not pending already,
 * due now, with their webhook-id and body. CTL_OK (printing how many), or
 * CTL_ERR when name is no endpoint of the configuration or Redis fails.
 */
int ctl_webhooks_redeliver(struct ctl *ctl, const char *name);

#endif
