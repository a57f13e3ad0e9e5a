// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the generic netlink family "ntmem" (include/uapi/ntmem_netlink.h).
 * Placeholder until the family lands: no family, no events.
 */
#include "ntmem.h"

int ntmem_genl_init(void)
{
	return 0;
}

void ntmem_genl_exit(void)
{
}

void ntmem_limit_event(struct ntmem_mm *nm, u32 event, unsigned long pages,
		       unsigned long committed, unsigned long limit)
{
}
