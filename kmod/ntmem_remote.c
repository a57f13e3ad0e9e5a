// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: where a call on another process runs.
 *
 * vm_mmap() works on current->mm only, and the LSM's mmap hooks, the
 * rlimits and the memory cgroup it charges are current's.  So a call that
 * maps or unmaps in another process (RESERVE, RELEASE, views,
 * placeholders, and the LSM's probe of an executable protection) runs in
 * a kernel thread that takes up the target's address space
 * (kthread_use_mm()), credentials, rlimits and memory cgroup: vm_mmap(),
 * the LSM, RLIMIT_AS, MDWE, the commit charge and the memory cgroup all
 * see the target, as if it had made the call itself, and the module has
 * no second path for any of them.  A few such threads are kept; when they
 * are all busy a call gets one of its own.  The caller waits; a fatal
 * signal to it stops its call at the next killable wait.
 *
 * A call that changes page state only runs in the caller
 * (ntmem_target_call()), charged to the target's memory cgroup.
 */
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "ntmem.h"

/**
 * struct ntmem_remote - a call to run in the target's address space.
 * @t:        the process descriptor's target
 * @task:     the target's thread group leader (reference held)
 * @fn:       the work
 * @arg:      its argument
 * @ret:      what @fn returned
 * @worker:   the thread running it, set when it is handed out
 *            (ntmem_workers_lock)
 * @finished: @fn has returned, so @worker may run another call
 *            (ntmem_workers_lock)
 * @done:     completed when @ret is there; the last use of the struct
 * @fail_nth: the caller's /proc/thread-self/fail-nth count, which the
 *            worker takes over for the call and hands back: allocation
 *            failures injected in a remote call are the caller's
 */
struct ntmem_remote {
	struct ntmem_target *t;
	struct task_struct *task;
	ntmem_op_fn fn;
	void *arg;
	int ret;
	struct task_struct *worker;
	bool finished;
	struct completion done;
	unsigned int fail_nth;
};

/* Move fault injection's fail-nth count from task @from to @to. */
static void ntmem_pass_fail_nth(struct task_struct *from, unsigned int *to)
{
#ifdef CONFIG_FAULT_INJECTION
	*to = READ_ONCE(from->fail_nth);
	WRITE_ONCE(from->fail_nth, 0);
#endif
}

static void ntmem_take_fail_nth(struct task_struct *to, unsigned int *from)
{
#ifdef CONFIG_FAULT_INJECTION
	WRITE_ONCE(to->fail_nth, *from);
	*from = 0;
#endif
}

/**
 * struct ntmem_worker - a kernel thread kept to run calls.
 * @task: the thread
 * @node: in ntmem_workers (ntmem_workers_lock)
 * @idle: in ntmem_idle_workers while it waits (ntmem_workers_lock)
 * @job:  the call handed to it, NULL while none (ntmem_workers_lock)
 *
 * At most ntmem_workers_max() are kept, for the module's lifetime: they
 * save a thread's creation per call.  When all are busy -- a call may wait
 * long for its target's mmap_lock -- a call gets a thread of its own, so
 * one user's calls never wait for another's.
 */
struct ntmem_worker {
	struct task_struct *task;
	struct list_head node;
	struct list_head idle;
	struct ntmem_remote *job;
};

/* The hand-offs; see the locking overview in ntmem.h. */
static DEFINE_SPINLOCK(ntmem_workers_lock);
static LIST_HEAD(ntmem_workers);
static LIST_HEAD(ntmem_idle_workers);
static unsigned int ntmem_nr_workers;	/* ntmem_workers_lock */

static unsigned int ntmem_workers_max(void)
{
	return min(2 * num_online_cpus(), 16U);
}

/* Take up @task's rlimits: vm_mmap() and LOCK check current's. */
static void ntmem_take_rlimits(struct task_struct *task)
{
	struct rlimit rlim[RLIM_NLIMITS];

	task_lock(task->group_leader);
	memcpy(rlim, task->signal->rlim, sizeof(rlim));
	task_unlock(task->group_leader);
	task_lock(current->group_leader);
	memcpy(current->signal->rlim, rlim, sizeof(rlim));
	task_unlock(current->group_leader);
}

/* Run @rc in this kernel thread as its target; @rc->done is the caller's. */
static void ntmem_remote_do(struct ntmem_remote *rc)
{
	struct mm_struct *mm = rc->t->nm->mm;
	const struct cred *cred = get_task_cred(rc->task);
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm), *old_memcg;
	const struct cred *old_cred;

	ntmem_take_rlimits(rc->task);
	kthread_use_mm(mm);
	old_cred = override_creds(cred);
	old_memcg = set_active_memcg(memcg);
	ntmem_take_fail_nth(current, &rc->fail_nth);
	rc->ret = rc->fn(rc->t->nm, rc->arg);
	ntmem_pass_fail_nth(current, &rc->fail_nth);
	set_active_memcg(old_memcg);
	revert_creds(old_cred);
	kthread_unuse_mm(mm);
	mem_cgroup_put(memcg);
	put_cred(cred);
	spin_lock(&ntmem_workers_lock);
	rc->finished = true;
	spin_unlock(&ntmem_workers_lock);
}

/* A thread of one call's own. */
static int ntmem_remote_thread(void *data)
{
	struct ntmem_remote *rc = data;

	allow_signal(SIGKILL);
	ntmem_remote_do(rc);
	/* not back into this module, which may be gone once @rc is */
	kthread_complete_and_exit(&rc->done, 0);
}

static int ntmem_worker_thread(void *data)
{
	struct ntmem_worker *w = data;
	struct ntmem_remote *job;

	allow_signal(SIGKILL);
	while (!kthread_should_stop()) {
		set_current_state(TASK_IDLE);
		spin_lock(&ntmem_workers_lock);
		job = w->job;
		w->job = NULL;
		spin_unlock(&ntmem_workers_lock);
		if (!job) {
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		__set_current_state(TASK_RUNNING);
		ntmem_remote_do(job);
		complete(&job->done);
		/* a killed caller's SIGKILL is not for the next call */
		flush_signals(current);
		spin_lock(&ntmem_workers_lock);
		list_add(&w->idle, &ntmem_idle_workers);
		spin_unlock(&ntmem_workers_lock);
	}
	return 0;
}

/* A new kept worker, given @rc; false if none may or can be made. */
static bool ntmem_worker_new(struct ntmem_remote *rc)
{
	struct ntmem_worker *w = kzalloc(sizeof(*w), GFP_KERNEL);
	struct task_struct *task;
	bool room;

	if (!w)
		return false;
	spin_lock(&ntmem_workers_lock);
	room = ntmem_nr_workers < ntmem_workers_max();
	if (room)
		ntmem_nr_workers++;
	spin_unlock(&ntmem_workers_lock);
	task = room ? kthread_create(ntmem_worker_thread, w, "ntmem-remote") :
		      ERR_PTR(-EBUSY);
	spin_lock(&ntmem_workers_lock);
	if (IS_ERR(task)) {
		if (room)
			ntmem_nr_workers--;
	} else {
		w->task = task;
		w->job = rc;
		rc->worker = task;
		list_add(&w->node, &ntmem_workers);
	}
	spin_unlock(&ntmem_workers_lock);
	if (IS_ERR(task)) {
		kfree(w);
		return false;
	}
	wake_up_process(task);
	return true;
}

/* Hand @rc to an idle worker, a new one, or a thread of its own. */
static int ntmem_remote_start(struct ntmem_remote *rc)
{
	struct ntmem_worker *w;
	struct task_struct *task;

	spin_lock(&ntmem_workers_lock);
	w = list_first_entry_or_null(&ntmem_idle_workers, struct ntmem_worker,
				     idle);
	if (w) {
		list_del(&w->idle);
		w->job = rc;
		rc->worker = w->task;
	}
	spin_unlock(&ntmem_workers_lock);
	if (w) {
		wake_up_process(w->task);
		return 0;
	}
	if (ntmem_worker_new(rc))
		return 0;
	task = kthread_create(ntmem_remote_thread, rc, "ntmem-remote");
	if (IS_ERR(task))
		return PTR_ERR(task);
	rc->worker = task;	/* before it runs: no lock needed */
	wake_up_process(task);
	return 0;
}

/*
 * Run @fn on the address space of @t, as its process (see the top of the
 * file).  The address space is alive: ntmem_target_ioctl() holds it.  A
 * fatal signal to the caller stops the work at its next killable wait --
 * but never a call the worker has taken on since.
 */
int ntmem_target_run(struct ntmem_target *t, ntmem_op_fn fn, void *arg)
{
	struct ntmem_remote rc = { .t = t, .fn = fn, .arg = arg };
	int err;

	if (t->nm->mm == current->mm)
		return fn(t->nm, arg);
	rc.task = get_pid_task(t->pid, PIDTYPE_TGID);
	if (!rc.task)
		return -ESRCH;
	init_completion(&rc.done);
	ntmem_pass_fail_nth(current, &rc.fail_nth);
	err = ntmem_remote_start(&rc);
	if (err) {
		ntmem_take_fail_nth(current, &rc.fail_nth);
		put_task_struct(rc.task);
		return err;
	}
	if (wait_for_completion_killable(&rc.done)) {
		spin_lock(&ntmem_workers_lock);
		if (!rc.finished)
			send_sig(SIGKILL, rc.worker, 1);
		spin_unlock(&ntmem_workers_lock);
		wait_for_completion(&rc.done);
	}
	ntmem_take_fail_nth(current, &rc.fail_nth);
	put_task_struct(rc.task);
	return rc.ret;
}

/*
 * Run @fn on the address space of @t here, in the caller: for calls that
 * change page state only.  What they allocate is charged to the target's
 * memory cgroup, as a fault of the target's would be.
 */
int ntmem_target_call(struct ntmem_target *t, ntmem_op_fn fn, void *arg)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(t->nm->mm), *old;
	int ret;

	old = set_active_memcg(memcg);
	ret = fn(t->nm, arg);
	set_active_memcg(old);
	mem_cgroup_put(memcg);
	return ret;
}

/* Module exit: no call is in flight (no descriptor is open). */
void ntmem_target_exit(void)
{
	struct ntmem_worker *w, *next;
	LIST_HEAD(all);

	spin_lock(&ntmem_workers_lock);
	list_splice_init(&ntmem_workers, &all);
	INIT_LIST_HEAD(&ntmem_idle_workers);
	ntmem_nr_workers = 0;
	spin_unlock(&ntmem_workers_lock);
	list_for_each_entry_safe(w, next, &all, node) {
		kthread_stop(w->task);
		kfree(w);
	}
}
