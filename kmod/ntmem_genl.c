// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the generic netlink family "ntmem" (include/uapi/ntmem_netlink.h),
 * the control plane: module statistics, per-process usage, the regions of
 * a process, commit limits, and limit events.
 *
 * Every command is strict (resv_start_op is 0, see ntmem_family), and each
 * has its own policy: an attribute the command does not take, of the wrong
 * size, or a command that does not exist, is refused by the core before
 * any handler runs.  Handlers set an extended-ack message on every error.
 *
 * PIDs are those of the caller's pid namespace; a process the caller cannot
 * see is neither listed nor found.  Events are the exception: they go to
 * listeners in every network namespace and carry the PID as the initial
 * pid namespace sees it.
 *
 * Locking: handlers run without the genl mutex (parallel_ops; all state
 * read here is atomic or reference counted).  The per-process RESET and
 * LOCKED sums and the regions dump take the target's mmap_lock for read,
 * one callback at a time: a dump never holds mmap_lock, nor an mm_users
 * reference, between callbacks.  ntmem_limit_event() is called from the
 * commit path with mmap_lock held for write and no spinlock, so it may
 * sleep to allocate.
 */
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ratelimit.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "ntmem.h"
#include "ntmem_section.h"
#include "ntmem_compat.h"

/* Index of "events" in ntmem_mcgrps[]. */
#define NTMEM_MCGRP_EVENTS	0

static struct genl_family ntmem_family;

static const struct nla_policy ntmem_pid_policy[NTMEM_A_PID + 1] = {
	[NTMEM_A_PID]	= { .type = NLA_U32 },
};

static const struct nla_policy ntmem_limit_policy[NTMEM_A_LIMIT + 1] = {
	[NTMEM_A_PID]	= { .type = NLA_U32 },
	[NTMEM_A_LIMIT]	= { .type = NLA_U64 },
};

/*
 * Limit events: one per failed commit, which an unprivileged process can
 * repeat as fast as it can call COMMIT.  A listener only needs to know
 * that limits are being hit, so at most a burst of 32 a second is sent.
 */
static DEFINE_RATELIMIT_STATE(ntmem_event_rs, HZ, 32);

/* State of a GET_PROCESS dump, in cb->ctx. */
struct ntmem_process_dump {
	struct pid_namespace *ns;	/* the caller's (reference held) */
	u64 last;			/* id of the last context visited */
	pid_t pid;			/* NTMEM_A_PID given: only that one */
};

/* State of a GET_REGIONS dump, in cb->ctx. */
struct ntmem_regions_dump {
	struct mm_struct *mm;		/* mmgrab'd at start, dropped at done */
	unsigned long addr;		/* where the next callback goes on */
	bool done;
};

static inline u64 ntmem_bytes(long pages)
{
	return pages > 0 ? (u64)pages << PAGE_SHIFT : 0;
}

static inline u64 ntmem_count(long n)
{
	return n > 0 ? n : 0;
}

static int ntmem_put_u64(struct sk_buff *skb, int attr, u64 value)
{
	return nla_put_u64_64bit(skb, attr, value, NTMEM_A_PAD);
}

/* The thread group @nr names in the caller's pid namespace, referenced. */
static struct task_struct *ntmem_task_by_vpid(pid_t nr)
{
	struct task_struct *task = NULL;

	if (nr <= 0)
		return NULL;
	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}

/* The context of the process @nr names in the caller's namespace, or NULL. */
static struct ntmem_mm *ntmem_mm_by_vpid(pid_t nr)
{
	pid_t global = 0;
	struct pid *pid;

	if (nr <= 0)
		return NULL;
	rcu_read_lock();
	pid = find_vpid(nr);
	if (pid)
		global = pid_nr(pid);
	rcu_read_unlock();
	return global ? ntmem_mm_find(global) : NULL;
}

/* The command name of @nm's owner in @comm, "" if it exited. */
static void ntmem_owner_comm(struct ntmem_mm *nm, char (*comm)[TASK_COMM_LEN])
{
	struct task_struct *task = get_pid_task(nm->owner, PIDTYPE_TGID);

	(*comm)[0] = '\0';
	if (task) {
		get_task_comm(*comm, task);
		put_task_struct(task);
	}
}

/*
 * ptrace_may_access() is not exported: this is its PTRACE_MODE_READ_FSCREDS
 * decision -- same thread group, or matching credentials or CAP_SYS_PTRACE
 * over the target's credentials, and a dumpable mm or CAP_SYS_PTRACE over
 * its user namespace -- without the LSM hook, which is not exported either.
 * Returns the task's mm with an mm_count reference (mmgrab), NULL if it has
 * none, or ERR_PTR(-EPERM).
 */
static struct mm_struct *ntmem_read_access(struct task_struct *task)
{
	const struct cred *cred = current_cred(), *tcred;
	struct user_namespace *dump_ns;
	struct mm_struct *mm;
	bool ok = true;

	task_lock(task);
	mm = (task->flags & PF_KTHREAD) ? NULL : task->mm;
	if (!same_thread_group(task, current)) {
		rcu_read_lock();
		tcred = __task_cred(task);
		ok = uid_eq(cred->fsuid, tcred->euid) &&
		     uid_eq(cred->fsuid, tcred->suid) &&
		     uid_eq(cred->fsuid, tcred->uid) &&
		     gid_eq(cred->fsgid, tcred->egid) &&
		     gid_eq(cred->fsgid, tcred->sgid) &&
		     gid_eq(cred->fsgid, tcred->gid);
		if (!ok)
			ok = ns_capable(tcred->user_ns, CAP_SYS_PTRACE);
		if (ok && mm && !ntmem_task_dumpable(task, mm, &dump_ns))
			ok = ns_capable(dump_ns, CAP_SYS_PTRACE);
		rcu_read_unlock();
	}
	if (ok && mm)
		mmgrab(mm);
	task_unlock(task);
	return ok ? mm : ERR_PTR(-EPERM);
}

/*
 * May the caller see @nm's owner, as GET_REGIONS decides?  A context whose
 * owner has exited shows nothing.
 */
static bool ntmem_may_read(struct ntmem_mm *nm)
{
	struct task_struct *task = get_pid_task(nm->owner, PIDTYPE_TGID);
	struct mm_struct *mm;

	if (!task)
		return false;
	mm = ntmem_read_access(task);
	put_task_struct(task);
	if (IS_ERR(mm))
		return false;
	if (mm)
		mmdrop(mm);
	return true;
}

/* --- GET_STATS ----------------------------------------------------------- */

static int ntmem_fill_stats(struct sk_buff *skb)
{
	struct ntmem_stats *s = &ntmem_stats;
	unsigned long ram, swap, reserve;

	if (ntmem_commit_limit_parts(&ram, &swap, &reserve) &&
	    (ntmem_put_u64(skb, NTMEM_A_LIMIT_RAM, ntmem_bytes(ram)) ||
	     ntmem_put_u64(skb, NTMEM_A_LIMIT_SWAP, ntmem_bytes(swap)) ||
	     ntmem_put_u64(skb, NTMEM_A_LIMIT_RESERVE, ntmem_bytes(reserve))))
		return -EMSGSIZE;
	if (ntmem_put_u64(skb, NTMEM_A_RESERVATIONS,
			  ntmem_count(atomic_long_read(&s->reservations))) ||
	    ntmem_put_u64(skb, NTMEM_A_COMMITTED,
			  ntmem_bytes(atomic_long_read(&s->committed_pages))) ||
	    ntmem_put_u64(skb, NTMEM_A_RESIDENT,
			  ntmem_bytes(ntmem_resident_pages())) ||
	    ntmem_put_u64(skb, NTMEM_A_RESET,
			  ntmem_bytes(atomic_long_read(&s->reset_pages))) ||
	    ntmem_put_u64(skb, NTMEM_A_LOCKED,
			  ntmem_bytes(atomic_long_read(&s->locked_pages))) ||
	    ntmem_put_u64(skb, NTMEM_A_COMMIT_LIMIT,
			  ntmem_bytes(ntmem_commit_limit())) ||
	    ntmem_put_u64(skb, NTMEM_A_COMMIT_PEAK,
			  ntmem_bytes(ntmem_commit_peak())) ||
	    ntmem_put_u64(skb, NTMEM_A_FAULTS,
			  ntmem_count(atomic_long_read(&s->faults))) ||
	    ntmem_put_u64(skb, NTMEM_A_DROPPED,
			  ntmem_bytes(atomic_long_read(&s->dropped_pages))) ||
	    ntmem_put_u64(skb, NTMEM_A_CONTEXTS,
			  ntmem_count(atomic_long_read(&s->contexts))))
		return -EMSGSIZE;
	return 0;
}

static int ntmem_get_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG(info->extack, "out of memory for the reply");
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &ntmem_family, 0,
				NTMEM_CMD_GET_STATS);
	if (!hdr || ntmem_fill_stats(msg)) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply does not fit");
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* --- GET_PROCESS --------------------------------------------------------- */

struct ntmem_usage {
	unsigned long reset;	/* pages */
	unsigned long locked;	/* pages */
};

/*
 * Sum the reset and locked pages of @nm's regions.  Their counts are kept
 * under mmap_lock, so they are read under it; an mm that is exiting has
 * nothing left to report.
 */
static int ntmem_usage(struct ntmem_mm *nm, struct ntmem_usage *u)
{
	struct mm_struct *mm = nm->mm;
	struct vm_area_struct *vma;

	u->reset = 0;
	u->locked = 0;
	if (!mmget_not_zero(mm))
		return 0;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			struct ntmem_region *r = vma->vm_private_data;

			if (vma->vm_ops != &ntmem_vm_ops || !r || r->nm != nm)
				continue;
			u->reset += atomic_long_read(&r->nr_reset);
			u->locked += r->nr_locked;
		}
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return 0;
}

static int ntmem_fill_process(struct sk_buff *skb, u32 portid, u32 seq,
			      int flags, struct ntmem_mm *nm, pid_t pid,
			      struct netlink_ext_ack *extack)
{
	unsigned long resident, swapped;
	char comm[TASK_COMM_LEN];
	struct ntmem_usage u;
	void *hdr;
	int err;

	ntmem_store_usage(nm, &resident, &swapped);
	err = ntmem_usage(nm, &u);
	if (err) {
		NL_SET_ERR_MSG(extack, "interrupted");
		return err;
	}
	ntmem_owner_comm(nm, &comm);
	hdr = genlmsg_put(skb, portid, seq, &ntmem_family, flags,
			  NTMEM_CMD_GET_PROCESS);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, NTMEM_A_PID, pid) ||
	    nla_put_string(skb, NTMEM_A_COMM, comm) ||
	    ntmem_put_u64(skb, NTMEM_A_RESERVATIONS,
			  ntmem_count(atomic_long_read(&nm->reservations))) ||
	    ntmem_put_u64(skb, NTMEM_A_COMMITTED,
			  ntmem_bytes(atomic_long_read(&nm->committed))) ||
	    ntmem_put_u64(skb, NTMEM_A_RESIDENT,
			  ntmem_bytes(resident)) ||
	    ntmem_put_u64(skb, NTMEM_A_RESET, ntmem_bytes(u.reset)) ||
	    ntmem_put_u64(skb, NTMEM_A_LOCKED, ntmem_bytes(u.locked)) ||
	    ntmem_put_u64(skb, NTMEM_A_LIMIT,
			  ntmem_bytes(atomic_long_read(&nm->limit)))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ntmem_get_process_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[NTMEM_A_PID];
	struct ntmem_mm *nm;
	struct sk_buff *msg;
	pid_t pid;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, NTMEM_A_PID)) {
		NL_SET_ERR_MSG(info->extack, "NTMEM_A_PID is required (or dump)");
		return -EINVAL;
	}
	pid = nla_get_u32(attr);
	nm = ntmem_mm_by_vpid(pid);
	if (!nm) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no ntmem context for this pid");
		return -ENOENT;
	}
	if (!ntmem_may_read(nm)) {
		ntmem_mm_put(nm);
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not allowed to read this process");
		return -EPERM;
	}
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		ntmem_mm_put(nm);
		NL_SET_ERR_MSG(info->extack, "out of memory for the reply");
		return -ENOMEM;
	}
	err = ntmem_fill_process(msg, info->snd_portid, info->snd_seq, 0, nm,
				 pid, info->extack);
	ntmem_mm_put(nm);
	if (err) {
		nlmsg_free(msg);
		if (err == -EMSGSIZE)
			NL_SET_ERR_MSG(info->extack, "reply does not fit");
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int ntmem_get_process_start(struct netlink_callback *cb)
{
	struct ntmem_process_dump *ctx = (void *)cb->ctx;
	struct nlattr *tb[NTMEM_A_PID + 1];
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	err = genlmsg_parse(cb->nlh, &ntmem_family, tb, NTMEM_A_PID,
			    ntmem_pid_policy, cb->extack);
	if (err)
		return err;
	ctx->pid = tb[NTMEM_A_PID] ? nla_get_u32(tb[NTMEM_A_PID]) : 0;
	ctx->last = 0;
	ctx->ns = get_pid_ns(task_active_pid_ns(current));
	return 0;
}

static int ntmem_get_process_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct ntmem_process_dump *ctx = (void *)cb->ctx;
	struct ntmem_mm *nm;
	int err = 0;

	while ((nm = ntmem_mm_next(ctx->last))) {
		pid_t pid = pid_nr_ns(nm->owner, ctx->ns);

		if (pid && (!ctx->pid || ctx->pid == pid) && ntmem_may_read(nm))
			err = ntmem_fill_process(skb,
						 NETLINK_CB(cb->skb).portid,
						 cb->nlh->nlmsg_seq,
						 NLM_F_MULTI, nm, pid,
						 cb->extack);
		if (!err)
			ctx->last = nm->id;
		ntmem_mm_put(nm);
		if (err)
			break;
	}
	/* a full skb ends this part; the next one resumes after ctx->last */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ? err : skb->len;
}

static int ntmem_get_process_done(struct netlink_callback *cb)
{
	struct ntmem_process_dump *ctx = (void *)cb->ctx;

	put_pid_ns(ctx->ns);
	return 0;
}

/* --- GET_REGIONS --------------------------------------------------------- */

/* Pages of [base, base + size) in @r that are in memory. */
static unsigned long ntmem_run_resident(struct ntmem_region *r,
					unsigned long base, unsigned long size)
{
	pgoff_t first, last;

	ntmem_page_span(r, base, size, &first, &last);
	return ntmem_store_resident(r, first, last);
}

static u32 ntmem_region_flags(struct ntmem_region *r)
{
	u32 flags = 0;

	if (!r)
		return 0;
	if (r->write_watch)
		flags |= NTMEM_REGION_WRITE_WATCH;
	if (r->cow)
		flags |= NTMEM_REGION_COPY;
	if (r->section && r->section->file_backed)
		flags |= NTMEM_REGION_FILE;
	if (r->from_placeholder)
		flags |= NTMEM_REGION_FROM_PLACEHOLDER;
	return flags;
}

/* A view's section: where in it, how big, and its name if it has one. */
static int ntmem_fill_section(struct sk_buff *skb, struct ntmem_region *r)
{
	struct ntmem_section_object *s = r->section;
	struct nlattr *name;

	if (ntmem_put_u64(skb, NTMEM_A_SECTION_OFFSET,
			  (u64)r->section_first << PAGE_SHIFT) ||
	    ntmem_put_u64(skb, NTMEM_A_SECTION_SIZE, s->size))
		return -EMSGSIZE;
	if (!s->name)
		return 0;
	/* the name is not terminated: the attribute's string is */
	name = nla_reserve(skb, NTMEM_A_SECTION_NAME, s->name_len + 1);
	if (!name)
		return -EMSGSIZE;
	memcpy(nla_data(name), s->name, s->name_len);
	((char *)nla_data(name))[s->name_len] = '\0';
	return 0;
}

/* One region of @r (NULL: a Windows placeholder, all of it), per @q. */
static int ntmem_fill_region(struct sk_buff *skb, struct netlink_callback *cb,
			     struct ntmem_region *r, const struct ntmem_query *q)
{
	unsigned long resident = r ? ntmem_run_resident(r, q->base,
							q->region_size) : 0;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ntmem_family, NLM_F_MULTI, NTMEM_CMD_GET_REGIONS);
	if (!hdr)
		return -EMSGSIZE;
	if (ntmem_put_u64(skb, NTMEM_A_REGION_BASE, q->base) ||
	    ntmem_put_u64(skb, NTMEM_A_REGION_SIZE, q->region_size) ||
	    ntmem_put_u64(skb, NTMEM_A_ALLOC_BASE, q->alloc_base) ||
	    ntmem_put_u64(skb, NTMEM_A_ALLOC_SIZE, q->alloc_size) ||
	    nla_put_u32(skb, NTMEM_A_ALLOC_PROTECT, q->alloc_protect) ||
	    nla_put_u32(skb, NTMEM_A_STATE, q->state) ||
	    nla_put_u32(skb, NTMEM_A_PROTECT, q->protect) ||
	    ntmem_put_u64(skb, NTMEM_A_RESIDENT, ntmem_bytes(resident)) ||
	    nla_put_u32(skb, NTMEM_A_REGION_FLAGS, ntmem_region_flags(r)) ||
	    nla_put_u32(skb, NTMEM_A_TYPE, q->type) ||
	    (r && r->section && ntmem_fill_section(skb, r))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * Resolve the pid and check access once, at the start: the dump then shows
 * the address space the process had then (as /proc/PID/maps does), even if
 * it execs meanwhile.
 */
static int ntmem_get_regions_start(struct netlink_callback *cb)
{
	struct ntmem_regions_dump *ctx = (void *)cb->ctx;
	struct nlattr *tb[NTMEM_A_PID + 1];
	struct task_struct *task;
	struct mm_struct *mm;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	err = genlmsg_parse(cb->nlh, &ntmem_family, tb, NTMEM_A_PID,
			    ntmem_pid_policy, cb->extack);
	if (err)
		return err;
	if (!tb[NTMEM_A_PID]) {
		NL_SET_ERR_ATTR_MISS(cb->extack, NULL, NTMEM_A_PID);
		NL_SET_ERR_MSG(cb->extack, "NTMEM_A_PID is required");
		return -EINVAL;
	}
	task = ntmem_task_by_vpid(nla_get_u32(tb[NTMEM_A_PID]));
	if (!task) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[NTMEM_A_PID],
				    "no such process");
		return -ESRCH;
	}
	mm = ntmem_read_access(task);
	put_task_struct(task);
	if (IS_ERR(mm)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[NTMEM_A_PID],
				    "not allowed to read this process");
		return PTR_ERR(mm);
	}
	ctx->mm = mm;
	ctx->addr = 0;
	ctx->done = !mm;
	return 0;
}

static int ntmem_get_regions_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct ntmem_regions_dump *ctx = (void *)cb->ctx;
	struct mm_struct *mm = ctx->mm;
	struct vm_area_struct *vma;
	struct ntmem_query q;
	unsigned long addr;
	int err = 0;

	if (ctx->done)
		return 0;
	if (!mmget_not_zero(mm))
		return 0;		/* it exited: nothing left */
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		NL_SET_ERR_MSG(cb->extack, "interrupted");
		return -EINTR;
	}
	{
		VMA_ITERATOR(vmi, mm, ctx->addr);

		for_each_vma(vmi, vma) {
			struct ntmem_region *r = vma->vm_private_data;

			if (ntmem_vma_is_hold(vma) && vma->vm_start >= ctx->addr) {
				memset(&q, 0, sizeof(q));
				q.base = vma->vm_start;
				q.alloc_base = vma->vm_start;
				q.region_size = vma->vm_end - vma->vm_start;
				q.alloc_size = q.region_size;
				q.alloc_protect = NTMEM_PAGE_NOACCESS;
				q.state = NTMEM_STATE_RESERVE;
				q.type = NTMEM_TYPE_PLACEHOLDER;
				err = ntmem_fill_region(skb, cb, NULL, &q);
				if (err)
					goto out;
				ctx->addr = vma->vm_end;
				continue;
			}
			if (vma->vm_ops != &ntmem_vm_ops || !r)
				continue;
			for (addr = max(ctx->addr, r->start); addr < r->end;
			     addr = q.base + q.region_size) {
				memset(&q, 0, sizeof(q));
				ntmem_query_region(r, addr, &q);
				err = ntmem_fill_region(skb, cb, r, &q);
				if (err)
					goto out;
				ctx->addr = q.base + q.region_size;
			}
		}
	}
	ctx->done = true;
out:
	mmap_read_unlock(mm);
	mmput(mm);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	if (err)
		NL_SET_ERR_MSG(cb->extack, "region does not fit a message");
	return err ? err : skb->len;
}

static int ntmem_get_regions_done(struct netlink_callback *cb)
{
	struct ntmem_regions_dump *ctx = (void *)cb->ctx;

	if (ctx->mm)
		mmdrop(ctx->mm);
	return 0;
}

/* --- SET_LIMIT ----------------------------------------------------------- */

static int ntmem_set_limit_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *pid_attr = info->attrs[NTMEM_A_PID];
	struct nlattr *attr = info->attrs[NTMEM_A_LIMIT];
	struct ntmem_mm *nm;
	u64 limit;

	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(info->extack, "SET_LIMIT needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, NTMEM_A_LIMIT)) {
		NL_SET_ERR_MSG(info->extack, "NTMEM_A_LIMIT is required");
		return -EINVAL;
	}
	limit = nla_get_u64(attr);
	if (!PAGE_ALIGNED(limit)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "limit must be a multiple of the page size");
		return -EINVAL;
	}
	if ((limit >> PAGE_SHIFT) > LONG_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "limit too large");
		return -ERANGE;
	}
	if (!pid_attr) {
		ntmem_set_commit_limit(limit >> PAGE_SHIFT);
		return 0;
	}
	nm = ntmem_mm_by_vpid(nla_get_u32(pid_attr));
	if (!nm) {
		NL_SET_ERR_MSG_ATTR(info->extack, pid_attr,
				    "no ntmem context for this pid");
		return -ENOENT;
	}
	atomic_long_set(&nm->limit, limit >> PAGE_SHIFT);
	ntmem_mm_put(nm);
	return 0;
}

/* --- events -------------------------------------------------------------- */

/*
 * A commit of @pages failed at a limit: @committed pages were charged
 * against @limit.  Called with mmap_lock held for write, may sleep.
 */
void ntmem_limit_event(struct ntmem_mm *nm, u32 event, unsigned long pages,
		       unsigned long committed, unsigned long limit)
{
	char comm[TASK_COMM_LEN];
	struct sk_buff *msg;
	void *hdr;

#ifndef GENL_MCAST_CAP_SYS_ADMIN
	return;
#endif
	if (!genl_has_listeners(&ntmem_family, &init_net, NTMEM_MCGRP_EVENTS))
		return;
	if (!__ratelimit(&ntmem_event_rs))
		return;
	ntmem_owner_comm(nm, &comm);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &ntmem_family, 0, NTMEM_CMD_EVENT);
	if (!hdr ||
	    nla_put_u32(msg, NTMEM_A_EVENT, event) ||
	    nla_put_u32(msg, NTMEM_A_PID, pid_nr(nm->owner)) ||
	    nla_put_string(msg, NTMEM_A_COMM, comm) ||
	    ntmem_put_u64(msg, NTMEM_A_REQUESTED, ntmem_bytes(pages)) ||
	    ntmem_put_u64(msg, NTMEM_A_COMMITTED, ntmem_bytes(committed)) ||
	    ntmem_put_u64(msg, NTMEM_A_LIMIT, ntmem_bytes(limit))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&ntmem_family, &init_net, msg, 0,
				NTMEM_MCGRP_EVENTS, GFP_KERNEL);
}

/* --- the family ---------------------------------------------------------- */

static const struct genl_ops ntmem_genl_ops[] = {
	{
		.cmd	= NTMEM_CMD_GET_STATS,
		.doit	= ntmem_get_stats_doit,
		/* no policy: every attribute is refused */
	},
	{
		.cmd	= NTMEM_CMD_GET_PROCESS,
		.doit	= ntmem_get_process_doit,
		.start	= ntmem_get_process_start,
		.dumpit	= ntmem_get_process_dumpit,
		.done	= ntmem_get_process_done,
		.policy	= ntmem_pid_policy,
		.maxattr = NTMEM_A_PID,
	},
	{
		.cmd	= NTMEM_CMD_GET_REGIONS,
		.start	= ntmem_get_regions_start,
		.dumpit	= ntmem_get_regions_dumpit,
		.done	= ntmem_get_regions_done,
		.policy	= ntmem_pid_policy,
		.maxattr = NTMEM_A_PID,
	},
	{
		.cmd	= NTMEM_CMD_SET_LIMIT,
		.doit	= ntmem_set_limit_doit,
		.policy	= ntmem_limit_policy,
		.maxattr = NTMEM_A_LIMIT,
	},
};

/*
 * Limit events name processes of every user: only an administrator of the
 * initial namespaces may listen (they are sent in init_net only).  A kernel
 * without per-group capabilities offers no events at all.
 */
static const struct genl_multicast_group ntmem_mcgrps[] = {
	[NTMEM_MCGRP_EVENTS] = {
		.name	= NTMEM_GENL_MCGRP_EVENTS,
#ifdef GENL_MCAST_CAP_SYS_ADMIN
		.flags	= GENL_MCAST_CAP_SYS_ADMIN,
#endif
	},
};

static struct genl_family ntmem_family __ro_after_init = {
	.name		= NTMEM_GENL_NAME,
	.version	= NTMEM_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= ntmem_genl_ops,
	.n_ops		= ARRAY_SIZE(ntmem_genl_ops),
	/*
	 * .resv_start_op stays 0: the core validates strictly every command
	 * numbered from it on -- here, all of them -- checks the reserved
	 * header fields, and gives a command without a policy (GET_STATS)
	 * one that refuses every attribute.
	 */
	.mcgrps		= ntmem_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(ntmem_mcgrps),
};

int ntmem_genl_init(void)
{
	/* suppressed events are not worth a line in the log */
	ratelimit_set_flags(&ntmem_event_rs, RATELIMIT_MSG_ON_RELEASE);
	return genl_register_family(&ntmem_family);
}

void ntmem_genl_exit(void)
{
	genl_unregister_family(&ntmem_family);
}

/* resolving the family by name loads the module */
MODULE_ALIAS_GENL_FAMILY(NTMEM_GENL_NAME);
