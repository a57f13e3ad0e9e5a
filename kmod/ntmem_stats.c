// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: module-wide counters, one decimal value per file in
 * /sys/class/misc/ntmem/.  They all return to zero when no process uses
 * ntmem, which is what the lifetime tests check -- except the commit
 * limit and the peak commit, which are here too.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "ntmem.h"

struct ntmem_stats ntmem_stats;

struct ntmem_stat_attr {
	struct device_attribute dev_attr;
	atomic_long_t *value;
};

static ssize_t ntmem_stat_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct ntmem_stat_attr *sa =
		container_of(attr, struct ntmem_stat_attr, dev_attr);

	if (sa->value == &ntmem_stats.resident_pages)
		return sysfs_emit(buf, "%ld\n", ntmem_resident_pages());
	return sysfs_emit(buf, "%ld\n", atomic_long_read(sa->value));
}

/* The automatic commit limit is brought up to date when it is read. */
static ssize_t ntmem_limit_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", ntmem_commit_limit());
}

static struct ntmem_stat_attr ntmem_stat_attrs[] = {
	{ __ATTR(reservations, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.reservations },
	{ __ATTR(committed_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.committed_pages },
	{ __ATTR(resident_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.resident_pages },
	{ __ATTR(reset_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.reset_pages },
	{ __ATTR(contexts, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.contexts },
	{ __ATTR(faults, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.faults },
	{ __ATTR(dropped_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.dropped_pages },
	{ __ATTR(locked_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.locked_pages },
	{ __ATTR(commit_limit_pages, 0444, ntmem_limit_show, NULL),
	  &ntmem_stats.commit_limit },
	{ __ATTR(commit_peak_pages, 0444, ntmem_stat_show, NULL),
	  &ntmem_stats.commit_peak },
};

static struct attribute *ntmem_stats_attrs[] = {
	&ntmem_stat_attrs[0].dev_attr.attr,
	&ntmem_stat_attrs[1].dev_attr.attr,
	&ntmem_stat_attrs[2].dev_attr.attr,
	&ntmem_stat_attrs[3].dev_attr.attr,
	&ntmem_stat_attrs[4].dev_attr.attr,
	&ntmem_stat_attrs[5].dev_attr.attr,
	&ntmem_stat_attrs[6].dev_attr.attr,
	&ntmem_stat_attrs[7].dev_attr.attr,
	&ntmem_stat_attrs[8].dev_attr.attr,
	&ntmem_stat_attrs[9].dev_attr.attr,
	NULL,
};

static const struct attribute_group ntmem_stats_group = {
	.attrs = ntmem_stats_attrs,
};

const struct attribute_group *ntmem_stats_groups[] = {
	&ntmem_stats_group,
	NULL,
};

/*
 * Pages of @r's pinned store: per process and module-wide.  The shmem
 * store's pages come and go with reclaim and swap, so the page cache
 * counts them (ntmem_store_usage(), ntmem_store_pages_total()).
 */
void ntmem_resident_add(struct ntmem_region *r, long pages)
{
	atomic_long_add(pages, &r->nm->resident);
	atomic_long_add(pages, &ntmem_stats.resident_pages);
}

/* Pages in memory in every store. */
long ntmem_resident_pages(void)
{
	return atomic_long_read(&ntmem_stats.resident_pages) +
	       ntmem_store_pages_total();
}
