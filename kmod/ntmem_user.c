// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: each user's share of the commit limit.
 *
 * Committing charges memory without touching it, so without shares one
 * user could take the whole global limit and make every other user's
 * commits fail (ENOSPC, ERROR_COMMITMENT_LIMIT).  A user -- a real uid,
 * as the kernel's own per-user limits count -- may hold at most
 * user_share_percent of the global limit (default 80; 100 turns shares
 * off).  A context charges the user who first opened /dev/ntmem in its
 * address space, or, made by another process (OPEN_PROCESS), the real uid
 * of the address space's owner.
 */
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#include "ntmem.h"

struct ntmem_user {
	struct hlist_node node;	/* in ntmem_users (ntmem_users_lock) */
	kuid_t uid;		/* invariant */
	refcount_t ref;		/* contexts charging this user */
	atomic_long_t committed;
};

/*
 * uid -> ntmem_user.  Innermost lock, nothing allocated under it: the last
 * ntmem_user_put() can run from the reset shrinker, inside an allocation.
 */
static DEFINE_HASHTABLE(ntmem_users, 6);
static DEFINE_SPINLOCK(ntmem_users_lock);

static unsigned int user_share_percent = 80;

static int ntmem_param_set_share(const char *val, const struct kernel_param *kp)
{
	unsigned int pct;
	int err = kstrtouint(val, 0, &pct);

	if (err)
		return err;
	if (!pct || pct > 100)
		return -ERANGE;
	WRITE_ONCE(user_share_percent, pct);
	return 0;
}

static const struct kernel_param_ops ntmem_share_param_ops = {
	.set = ntmem_param_set_share,
	.get = param_get_uint,
};

module_param_cb(user_share_percent, &ntmem_share_param_ops,
		&user_share_percent, 0644);
MODULE_PARM_DESC(user_share_percent,
		 "Percent of the global commit limit one user may hold (1-100, default 80)");

/* The user @uid, referenced; NULL without memory. */
struct ntmem_user *ntmem_user_get(kuid_t uid)
{
	struct ntmem_user *u, *fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);

	if (!fresh)
		return NULL;
	spin_lock(&ntmem_users_lock);
	hash_for_each_possible(ntmem_users, u, node, __kuid_val(uid)) {
		if (uid_eq(u->uid, uid)) {
			refcount_inc(&u->ref);
			spin_unlock(&ntmem_users_lock);
			kfree(fresh);
			return u;
		}
	}
	fresh->uid = uid;
	refcount_set(&fresh->ref, 1);
	hash_add(ntmem_users, &fresh->node, __kuid_val(uid));
	spin_unlock(&ntmem_users_lock);
	return fresh;
}

void ntmem_user_put(struct ntmem_user *u)
{
	if (!refcount_dec_and_lock(&u->ref, &ntmem_users_lock))
		return;
	hash_del(&u->node);
	spin_unlock(&ntmem_users_lock);
	WARN_ON_ONCE(atomic_long_read(&u->committed));
	kfree(u);
}

/* The most pages @u may hold: its share of the global @limit. */
static unsigned long ntmem_user_limit(unsigned long limit)
{
	return mult_frac(limit, READ_ONCE(user_share_percent), 100);
}

/* 0, or -ENOSPC past the user's share, with nothing charged. */
int ntmem_user_charge(struct ntmem_mm *nm, unsigned long pages,
		      unsigned long limit)
{
	unsigned long share = ntmem_user_limit(limit);
	long mine = atomic_long_add_return(pages, &nm->user->committed);

	if (mine > share && READ_ONCE(user_share_percent) < 100) {
		atomic_long_sub(pages, &nm->user->committed);
		ntmem_limit_event(nm, NTMEM_EVENT_USER_LIMIT, pages,
				  mine - pages, share);
		return -ENOSPC;
	}
	return 0;
}

void ntmem_user_uncharge(struct ntmem_mm *nm, unsigned long pages)
{
	atomic_long_sub(pages, &nm->user->committed);
}
