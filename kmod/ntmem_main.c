// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: Windows NT virtual-memory semantics on Linux.
 *
 * The misc device /dev/ntmem.  Each open file is bound to the address space
 * of the process that opened it; all files of one address space share one
 * struct ntmem_mm, so reservations outlive the file that made them and a
 * new open can manage them again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_version.h"

static LIST_HEAD(ntmem_mms);		/* oldest first: ids ascend */
static DEFINE_MUTEX(ntmem_mms_lock);
static u64 ntmem_mms_last_id;		/* ntmem_mms_lock */

static void ntmem_mm_free(struct kref *kref)
{
	struct ntmem_mm *nm = container_of(kref, struct ntmem_mm, kref);

	mutex_lock(&ntmem_mms_lock);
	list_del(&nm->node);
	mutex_unlock(&ntmem_mms_lock);
	WARN_ON_ONCE(atomic_long_read(&nm->reservations) ||
		     atomic_long_read(&nm->committed) ||
		     atomic_long_read(&nm->resident));
	ntmem_store_destroy(nm);
	mmdrop(nm->mm);
	put_pid(nm->owner);
	ntmem_user_put(nm->user);
	atomic_long_dec(&ntmem_stats.contexts);
	kfree(nm);
}

void ntmem_mm_put(struct ntmem_mm *nm)
{
	kref_put(&nm->kref, ntmem_mm_free);
}

/*
 * Find or create the ntmem_mm of @mm and count one more open file.  A new
 * one is owned by thread group @owner and charges user @uid.
 */
struct ntmem_mm *ntmem_mm_get(struct mm_struct *mm, struct pid *owner,
			      kuid_t uid)
{
	struct ntmem_mm *nm, *fresh;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (fresh)
		fresh->user = ntmem_user_get(uid);
	if (!fresh || !fresh->user) {
		kfree(fresh);
		return ERR_PTR(-ENOMEM);
	}

	mutex_lock(&ntmem_mms_lock);
	list_for_each_entry(nm, &ntmem_mms, node) {
		if (nm->mm == mm && kref_get_unless_zero(&nm->kref)) {
			nm->nr_files++;
			mutex_unlock(&ntmem_mms_lock);
			ntmem_user_put(fresh->user);
			kfree(fresh);
			return nm;
		}
	}
	nm = fresh;
	kref_init(&nm->kref);
	mutex_init(&nm->map_lock);
	spin_lock_init(&nm->guard_lock);
	mmgrab(mm);
	nm->mm = mm;
	nm->owner = get_pid(owner);
	nm->nr_files = 1;
	nm->id = ++ntmem_mms_last_id;
	list_add_tail(&nm->node, &ntmem_mms);
	atomic_long_inc(&ntmem_stats.contexts);
	mutex_unlock(&ntmem_mms_lock);
	return nm;
}

/* Pages of every store that are in memory (ntmem_store.c). */
unsigned long ntmem_store_pages_total(void)
{
	unsigned long pages = 0;
	struct ntmem_mm *nm;

	mutex_lock(&ntmem_mms_lock);
	list_for_each_entry(nm, &ntmem_mms, node) {
		struct file *store = ntmem_store_peek(&nm->store);
		struct file *large = ntmem_store_peek(&nm->large_store);

		if (store)
			pages += READ_ONCE(store->f_mapping->nrpages);
		if (large)
			pages += READ_ONCE(large->f_mapping->nrpages);
	}
	mutex_unlock(&ntmem_mms_lock);
	return pages;
}

/*
 * The context created by thread group @tgid, referenced; or NULL.  After an
 * exec with /dev/ntmem kept open, the thread group has two: the one of its
 * live address space wins.
 */
struct ntmem_mm *ntmem_mm_find(pid_t tgid)
{
	struct ntmem_mm *nm, *found = NULL;

	mutex_lock(&ntmem_mms_lock);
	list_for_each_entry(nm, &ntmem_mms, node) {
		if (pid_nr(nm->owner) != tgid || !kref_read(&nm->kref))
			continue;
		found = nm;
		if (atomic_read(&nm->mm->mm_users))
			break;
	}
	/* unlinking takes ntmem_mms_lock: @found is still there */
	if (found && !kref_get_unless_zero(&found->kref))
		found = NULL;
	mutex_unlock(&ntmem_mms_lock);
	return found;
}

/*
 * The oldest live context whose id is above @after, referenced; NULL past
 * the end.  Ids never repeat, so a dump resumed from the last id it
 * reported neither skips nor repeats a context as others come and go.
 */
struct ntmem_mm *ntmem_mm_next(u64 after)
{
	struct ntmem_mm *nm, *found = NULL;

	mutex_lock(&ntmem_mms_lock);
	list_for_each_entry(nm, &ntmem_mms, node) {
		if (nm->id > after && kref_get_unless_zero(&nm->kref)) {
			found = nm;
			break;
		}
	}
	mutex_unlock(&ntmem_mms_lock);
	return found;
}

static int ntmem_open(struct inode *inode, struct file *file)
{
	struct ntmem_mm *nm;

	if (!current->mm)
		return -EINVAL;
	nm = ntmem_mm_get(current->mm, task_tgid(current), current_uid());
	if (IS_ERR(nm))
		return PTR_ERR(nm);
	file->private_data = nm;
	return 0;
}

/* One open file of @nm (a /dev/ntmem file or a process descriptor) closes. */
void ntmem_mm_close(struct ntmem_mm *nm)
{
	struct file *anon = NULL, *free_file = NULL, *large = NULL;
	struct file *hold = NULL;
	bool last;

	mutex_lock(&ntmem_mms_lock);
	last = --nm->nr_files == 0;
	mutex_unlock(&ntmem_mms_lock);

	/*
	 * The anon files refer back to @nm; drop ours with the last open file
	 * to break the cycle.  Live mappings hold their own references.
	 */
	if (last) {
		mutex_lock(&nm->map_lock);
		anon = nm->file;
		free_file = nm->free_file;
		large = nm->large_file;
		hold = nm->hold_file;
		nm->file = NULL;
		nm->free_file = NULL;
		nm->large_file = NULL;
		nm->hold_file = NULL;
		mutex_unlock(&nm->map_lock);
	}
	if (anon)
		fput(anon);
	if (large)
		fput(large);
	if (free_file)
		fput(free_file);
	if (hold)
		fput(hold);
	ntmem_mm_put(nm);
}

static int ntmem_release_file(struct inode *inode, struct file *file)
{
	ntmem_mm_close(file->private_data);
	return 0;
}

static const struct file_operations ntmem_fops = {
	.owner		= THIS_MODULE,
	.open		= ntmem_open,
	.release	= ntmem_release_file,
	.unlocked_ioctl	= ntmem_ioctl,
	.llseek		= noop_llseek,
};

/*
 * A fixed minor from the range devices.txt reserves for local use, so that
 * depmod can write a static node for /dev/ntmem (the "devname:" alias) and
 * opening it loads the module, as with /dev/fuse.  Taken already: dynamic.
 */
#define NTMEM_MISC_MINOR	246

static struct miscdevice ntmem_misc = {
	.minor	= NTMEM_MISC_MINOR,
	.name	= "ntmem",
	.fops	= &ntmem_fops,
	.groups	= ntmem_stats_groups,
	/* isolation is per address space, so every user may open it */
	.mode	= 0666,
};

static int __init ntmem_init(void)
{
	int err;

	ntmem_charge_init();
	err = ntmem_thp_init();
	if (err)
		goto out_charge;
	err = ntmem_store_init();
	if (err)
		goto out_thp;
	err = ntmem_reset_init();
	if (err)
		goto out_store;
	err = ntmem_genl_init();
	if (err)
		goto out_reset;
	err = misc_register(&ntmem_misc);
	if (err == -EBUSY) {
		pr_notice("misc minor %d is taken: /dev/ntmem gets a dynamic one\n",
			  NTMEM_MISC_MINOR);
		ntmem_misc.minor = MISC_DYNAMIC_MINOR;
		err = misc_register(&ntmem_misc);
	}
	if (err)
		goto out_genl;
	pr_info("version %s loaded, commit limit %lu MiB\n", NTMEM_VERSION,
		ntmem_commit_limit() >> (20 - PAGE_SHIFT));
	return 0;

out_genl:
	ntmem_genl_exit();
out_reset:
	ntmem_reset_exit();
out_store:
	ntmem_store_exit();
out_thp:
	ntmem_thp_exit();
out_charge:
	ntmem_charge_exit();
	return err;
}

static void __exit ntmem_exit(void)
{
	misc_deregister(&ntmem_misc);
	ntmem_target_exit();
	ntmem_genl_exit();
	ntmem_reset_exit();
	ntmem_store_exit();
	ntmem_thp_exit();
	ntmem_charge_exit();
}

module_init(ntmem_init);
module_exit(ntmem_exit);

MODULE_DESCRIPTION("Windows NT virtual-memory semantics: reserve, commit, decommit, reset, protect, query");
MODULE_AUTHOR("The ntmem developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(NTMEM_VERSION);
MODULE_ALIAS_MISCDEV(NTMEM_MISC_MINOR);
MODULE_ALIAS("devname:ntmem");
