/* config_keys.c - every key the configuration knows, by name, for the README check and tools. */
#include <stddef.h>

#include "config.h"
#include "config_int.h"

/* The main table, a rep's keys, a calendar's, the HTTP intake's, then a webhook's. */
const char *
cfg_key_name(size_t i)
{
	if (i < cfg_nkeys)
		return cfg_keys[i].name;
	i -= cfg_nkeys;
	if (i < cfg_rep_nkeys)
		return cfg_rep_keys[i].name;
	i -= cfg_rep_nkeys;
	if (i < cfg_cal_nkeys)
		return cfg_cal_keys[i].name;
	i -= cfg_cal_nkeys;
	if (i < cfg_intake_http_nkeys)
		return cfg_intake_http_keys[i].name;
	i -= cfg_intake_http_nkeys;
	if (i < cfg_wh_nkeys)
		return cfg_wh_keys[i].name;
	return NULL;
}
