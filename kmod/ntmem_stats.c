// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: module-wide counters, one decimal value per file in
 * /sys/class/misc/ntmem/.  They all return to zero when no process uses
 * ntmem, which is what the lifetime tests check.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "ntmem.h"

struct ntmem_stats ntmem_stats;

#define NTMEM_STAT_ATTR(name)						\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%ld\n",					\
			  atomic_long_read(&ntmem_stats.name));		\
}									\
static DEVICE_ATTR_RO(name)

NTMEM_STAT_ATTR(reservations);
NTMEM_STAT_ATTR(committed_pages);
NTMEM_STAT_ATTR(resident_pages);
NTMEM_STAT_ATTR(reset_pages);
NTMEM_STAT_ATTR(contexts);
NTMEM_STAT_ATTR(faults);
NTMEM_STAT_ATTR(dropped_pages);

static struct attribute *ntmem_stats_attrs[] = {
	&dev_attr_reservations.attr,
	&dev_attr_committed_pages.attr,
	&dev_attr_resident_pages.attr,
	&dev_attr_reset_pages.attr,
	&dev_attr_contexts.attr,
	&dev_attr_faults.attr,
	&dev_attr_dropped_pages.attr,
	NULL,
};

static const struct attribute_group ntmem_stats_group = {
	.attrs = ntmem_stats_attrs,
};

const struct attribute_group *ntmem_stats_groups[] = {
	&ntmem_stats_group,
	NULL,
};

/* Pages of @r that have memory: per process and module-wide. */
void ntmem_resident_add(struct ntmem_region *r, long pages)
{
	atomic_long_add(pages, &r->nm->resident);
	atomic_long_add(pages, &ntmem_stats.resident_pages);
}
