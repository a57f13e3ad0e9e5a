// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: other processes -- Windows' OpenProcess, the ...Ex calls,
 * ReadProcessMemory and WriteProcessMemory.
 *
 * A process descriptor is made from the caller's /proc/PID/mem.  Opening
 * that file was Linux's own ptrace-attach decision -- credentials and
 * dumpable or CAP_SYS_PTRACE, and the LSM's ptrace hook (Yama, SELinux,
 * AppArmor) -- which a module cannot ask for itself: ptrace_may_access()
 * and the hook are not exported.  The descriptor keeps the file, and with
 * it the address space it was opened on, as /proc/PID/mem does: an exec
 * in the target leaves the descriptor with the old, dead one (ESRCH).
 *
 * A call that maps or unmaps (RESERVE, RELEASE, views, placeholders, and
 * the LSM's probe of an executable protection) runs where the target's
 * address space is current: in a kernel thread that takes it up
 * (kthread_use_mm()), with the target's credentials, rlimits and memory
 * cgroup -- one of a few kept for that, or one of its own when they are
 * all busy.  So vm_mmap(),
 * the LSM's mmap hooks, RLIMIT_AS, MDWE, the commit charge and the memory
 * cgroup all see the target, as if it had made the call itself; the module
 * has no second path for any of them.  The caller waits for the thread,
 * which a fatal signal to the caller stops at its next killable wait.
 * The calls that change page state only (COMMIT, DECOMMIT, RESET,
 * PROTECT) run in the caller under the target's mmap_lock, charged to the
 * target's memory cgroup, its CPU time the caller's; QUERY only reads; and
 * the copies pin the target's pages as process_vm_readv() does, or go
 * through /proc/PID/mem.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/magic.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "ntmem.h"
#include "ntmem_compat.h"

static_assert(sizeof(struct ntmem_process) == 56);
static_assert(sizeof(struct ntmem_memory_copy) == 56);

#define NTMEM_PROCESS_ACCESS	(NTMEM_PROCESS_VM_OPERATION | \
				 NTMEM_PROCESS_VM_READ | \
				 NTMEM_PROCESS_VM_WRITE | \
				 NTMEM_PROCESS_QUERY_INFORMATION | \
				 NTMEM_PROCESS_QUERY_LIMITED_INFORMATION)
#define NTMEM_PROCESS_QUERY	(NTMEM_PROCESS_QUERY_INFORMATION | \
				 NTMEM_PROCESS_QUERY_LIMITED_INFORMATION)
/* what needs /proc/PID/mem open for writing */
#define NTMEM_PROCESS_CHANGE	(NTMEM_PROCESS_VM_OPERATION | \
				 NTMEM_PROCESS_VM_WRITE)

/**
 * struct ntmem_target - what a process descriptor holds (all invariant).
 * @nm:     the context of the target's address space; the descriptor is
 *          one of its files (nr_files)
 * @mem:    the caller's /proc/PID/mem, which holds that address space
 * @pid:    the target's thread group
 * @access: the NTMEM_PROCESS_* bits granted
 */
struct ntmem_target {
	struct ntmem_mm *nm;
	struct file *mem;
	struct pid *pid;
	u32 access;
};

/* The file operations of /proc/PID/mem, learned from procfs itself. */
static const struct file_operations *ntmem_proc_mem_fops;

/*
 * Is @file a mem file of procfs?  Its f_op is compared with that of
 * "self/mem" opened under the same procfs mount; procfs is checked first,
 * so that the path cannot lead to a file a user made.
 */
static bool ntmem_is_proc_mem(struct file *file)
{
	const struct file_operations *fops = READ_ONCE(ntmem_proc_mem_fops);
	struct file *self;

	if (file->f_path.dentry->d_sb->s_magic != PROC_SUPER_MAGIC)
		return false;
	if (!fops) {
		self = file_open_root_mnt(file->f_path.mnt, "self/mem",
					  O_RDONLY, 0);
		if (IS_ERR(self))
			return false;
		fops = self->f_op;
		fput(self);
		WRITE_ONCE(ntmem_proc_mem_fops, fops);
	}
	return file->f_op == fops;
}

static int ntmem_target_release(struct inode *inode, struct file *file)
{
	struct ntmem_target *t = file->private_data;

	ntmem_mm_close(t->nm);
	fput(t->mem);
	put_pid(t->pid);
	kfree(t);
	return 0;
}

/*
 * Does a thread of the target still use the address space?  Not after it
 * exited or exec'd -- which mm_users alone would not tell while calls of
 * others hold the address space one after the other.
 */
static bool ntmem_target_alive(struct ntmem_target *t)
{
	struct task_struct *task, *th;
	bool alive = false;

	rcu_read_lock();
	task = pid_task(t->pid, PIDTYPE_TGID);
	if (task) {
		for_each_thread(task, th) {
			if (READ_ONCE(th->mm) == t->nm->mm) {
				alive = true;
				break;
			}
		}
	}
	rcu_read_unlock();
	return alive;
}

/* The access each ioctl of a process descriptor needs; 0 for none. */
static long ntmem_target_need(unsigned int nr)
{
	switch (nr) {
	case _IOC_NR(NTMEM_IOC_VERSION):
		return 0;
	case _IOC_NR(NTMEM_IOC_RESERVE):
	case _IOC_NR(NTMEM_IOC_COMMIT):
	case _IOC_NR(NTMEM_IOC_DECOMMIT):
	case _IOC_NR(NTMEM_IOC_RESET):
	case _IOC_NR(NTMEM_IOC_RESET_UNDO):
	case _IOC_NR(NTMEM_IOC_RELEASE):
	case _IOC_NR(NTMEM_IOC_PROTECT):
	case _IOC_NR(NTMEM_IOC_MAP_VIEW):
	case _IOC_NR(NTMEM_IOC_UNMAP_VIEW):
		return NTMEM_PROCESS_VM_OPERATION;
	case _IOC_NR(NTMEM_IOC_QUERY):
		return NTMEM_PROCESS_QUERY;
	case _IOC_NR(NTMEM_IOC_READ_MEMORY):
		return NTMEM_PROCESS_VM_READ;
	case _IOC_NR(NTMEM_IOC_WRITE_MEMORY):
		return NTMEM_PROCESS_VM_WRITE | NTMEM_PROCESS_VM_OPERATION;
	default:
		return -ENOTTY;
	}
}

static long ntmem_target_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct ntmem_target *t = file->private_data;
	struct ntmem_ctx c = { .nm = t->nm, .target = t };
	struct mm_struct *mm = t->nm->mm;
	long need, ret;

	if (_IOC_TYPE(cmd) != NTMEM_IOC_MAGIC)
		return -ENOTTY;
	need = ntmem_target_need(_IOC_NR(cmd));
	if (need < 0)
		return need;
	/* QUERY takes either of its two rights, the others all of theirs */
	if (need == NTMEM_PROCESS_QUERY ? !(t->access & need) :
	    (t->access & need) != need)
		return -EACCES;
	/* the address space lives through the call, or is gone already */
	if (!ntmem_target_alive(t) || !mmget_not_zero(mm))
		return -ESRCH;
	ret = ntmem_dispatch(&c, cmd, (void __user *)arg);
	mmput(mm);
	return ret;
}

/*
 * /proc/self/fdinfo of a process descriptor: the process's id in the
 * reader's pid namespace (0 if it is not there), as a pidfd's shows it,
 * and the access granted.
 */
static void ntmem_target_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ntmem_target *t = file->private_data;

	seq_printf(m, "Pid:\t%d\n", pid_vnr(t->pid));
	seq_printf(m, "NtmemAccess:\t%#x\n", t->access);
}

static const struct file_operations ntmem_target_fops = {
	.owner		= THIS_MODULE,
	.release	= ntmem_target_release,
	.show_fdinfo	= ntmem_target_show_fdinfo,
	.unlocked_ioctl	= ntmem_target_ioctl,
	.llseek		= noop_llseek,
};

/*
 * The process descriptor of thread group @pid, whose address space must
 * be the one @mem was opened on; @pid and @mem go to it.
 */
static struct file *ntmem_target_file(struct pid *pid, struct file *mem,
				      u32 access)
{
	struct mm_struct *mm = mem->private_data;	/* procfs's, mmgrab()ed */
	struct task_struct *task = get_pid_task(pid, PIDTYPE_TGID);
	struct ntmem_target *t;
	struct file *file;
	kuid_t uid = GLOBAL_ROOT_UID;
	bool same = false;

	if (task) {
		task_lock(task);
		same = mm && task->mm == mm;
		uid = task_uid(task);
		task_unlock(task);
		put_task_struct(task);
	}
	if (!same)
		return ERR_PTR(-ESRCH);
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	/* its reservations charge the owner of the address space */
	t->nm = ntmem_mm_get(mm, pid, uid);
	if (IS_ERR(t->nm)) {
		file = ERR_CAST(t->nm);
		kfree(t);
		return file;
	}
	t->mem = mem;
	t->pid = pid;
	t->access = access;
	file = anon_inode_getfile("[ntmem-process]", &ntmem_target_fops, t,
				  O_RDWR);
	if (IS_ERR(file)) {
		ntmem_mm_close(t->nm);
		kfree(t);
	}
	return file;
}

/* OPEN_PROCESS, on /dev/ntmem. */
int ntmem_target_open(struct ntmem_mm *nm, void __user *uarg)
{
	struct ntmem_process a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	struct file *mem, *file;
	struct pid *pid = NULL;
	int fd, err;

	if (usize < 0)
		return usize;
	if (a.flags || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)) ||
	    !a.access || (a.access & ~NTMEM_PROCESS_ACCESS) || a.pid <= 0)
		return -EINVAL;
	mem = fget(a.mem_fd);
	if (!mem)
		return -EBADF;
	err = -EINVAL;
	if (!ntmem_is_proc_mem(mem))
		goto out;
	err = -EACCES;
	if (!(mem->f_mode & FMODE_READ) ||
	    ((a.access & NTMEM_PROCESS_CHANGE) && !(mem->f_mode & FMODE_WRITE)))
		goto out;
	err = -ESRCH;
	pid = find_get_pid(a.pid);
	if (!pid)
		goto out;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	file = ntmem_target_file(pid, mem, a.access);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		err = PTR_ERR(file);
		goto out;
	}
	a.fd = fd;
	/* a descriptor the caller cannot learn of would be lost */
	err = ntmem_copy_out(uarg, &a, sizeof(a), usize);
	if (err) {
		fput(file);	/* which puts @pid and @mem */
		put_unused_fd(fd);
		return err;
	}
	fd_install(fd, file);
	return 0;
out:
	put_pid(pid);
	fput(mem);
	return err;
}

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

/* Pages pinned at a time by ntmem_pin_copy(). */
#define NTMEM_COPY_BATCH	16

/*
 * Copy as process_vm_readv() and process_vm_writev() do: pin a batch of
 * the target's pages (under its mmap_lock), drop the lock, copy once,
 * through an iov_iter -- which, unlike copy_from_user(), never zero-fills
 * what a faulting copy did not reach, here the target's own page.
 * Without FOLL_FORCE: the pages' own protection decides, and what it
 * refuses -- or GUP cannot reach, such as executable pages -- is left to
 * /proc/PID/mem (-EAGAIN, *@done bytes copied).
 */
static int ntmem_pin_copy(struct mm_struct *mm, u64 addr, char __user *buf,
			  u64 len, bool write, u64 *done)
{
	struct page *pages[NTMEM_COPY_BATCH];
	struct iovec iov = { .iov_base = buf + *done,
			     .iov_len = len - *done };
	struct iov_iter iter;

	iov_iter_init(&iter, write ? ITER_SOURCE : ITER_DEST, &iov, 1,
		      len - *done);
	while (*done < len) {
		unsigned long start = addr + *done;
		unsigned int off = offset_in_page(start);
		unsigned long nr = min_t(u64, NTMEM_COPY_BATCH,
					 DIV_ROUND_UP(off + len - *done,
						      PAGE_SIZE));
		int locked = 1, err = 0;
		long got, i;

		if (mmap_read_lock_killable(mm))
			return -EINTR;
		got = ntmem_pin_pages_remote(mm, start & PAGE_MASK, nr,
					     write ? FOLL_WRITE : 0, pages,
					     &locked);
		if (locked)
			mmap_read_unlock(mm);
		if (got <= 0)
			return -EAGAIN;
		for (i = 0; i < got && !err; i++) {
			size_t n = min_t(u64, PAGE_SIZE - off, len - *done);
			size_t copied = write ?
				copy_page_from_iter(pages[i], off, n, &iter) :
				copy_page_to_iter(pages[i], off, n, &iter);

			*done += copied;
			if (copied < n)
				err = -EFAULT;
			off = 0;
		}
		unpin_user_pages_dirty_lock(pages, got, write);
		if (err)
			return err;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/*
 * Copy through /proc/PID/mem as a debugger does (FOLL_FORCE, as far as
 * the kernel's policy for it allows, and ntmem's ->access for what GUP
 * cannot reach), up to @len bytes from @addr.  Returns 0, or the error
 * that stopped the copy after *@done bytes.
 */
static int ntmem_mem_file_copy(struct file *mem, u64 addr, char __user *buf,
			       u64 len, bool write, u64 *done)
{
	loff_t pos = addr + *done;
	ssize_t n;

	while (*done < len) {
		size_t chunk = min_t(u64, len - *done, MAX_RW_COUNT);

		n = write ? mem->f_op->write(mem, buf + *done, chunk, &pos) :
			    mem->f_op->read(mem, buf + *done, chunk, &pos);
		if (n == -EFAULT || n == -EINTR || n == -ENOMEM)
			return n;
		if (n <= 0)	/* the address space ends there, or is gone */
			return atomic_read(&((struct mm_struct *)
					     mem->private_data)->mm_users) ?
			       -EIO : -ESRCH;
		*done += n;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/*
 * Copy from or to the target: pinned pages, and the pages that cannot be
 * pinned one at a time through /proc/PID/mem.
 */
static int ntmem_remote_copy(struct ntmem_target *t, u64 addr,
			     char __user *buf, u64 len, bool write, u64 *done)
{
	u64 page_end;
	int err;

	for (;;) {
		err = ntmem_pin_copy(t->nm->mm, addr, buf, len, write, done);
		if (err != -EAGAIN)
			return err;
		page_end = min_t(u64, len, *done + PAGE_SIZE -
					   offset_in_page(addr + *done));
		err = ntmem_mem_file_copy(t->mem, addr, buf, page_end, write,
					  done);
		if (err)
			return err;
	}
}

/* The caller's own memory, as ptrace would reach it. */
static int ntmem_own_copy(u64 addr, char __user *buf, u64 len, bool write,
			  u64 *done)
{
	unsigned int flags = FOLL_FORCE | (write ? FOLL_WRITE : 0);
	char *page = (char *)__get_free_page(GFP_KERNEL);
	int err = 0;

	if (!page)
		return -ENOMEM;
	while (*done < len) {
		int chunk = min_t(u64, len - *done,
				  PAGE_SIZE - offset_in_page(addr + *done));
		int n;

		if (write && copy_from_user(page, buf + *done, chunk)) {
			err = -EFAULT;
			break;
		}
		n = access_process_vm(current, addr + *done, page, chunk,
				      flags);
		if (n <= 0) {
			err = -EIO;
			break;
		}
		if (!write && copy_to_user(buf + *done, page, n)) {
			err = -EFAULT;
			break;
		}
		*done += n;
		if (n < chunk) {
			err = -EIO;
			break;
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
	}
	free_page((unsigned long)page);
	return err;
}

/*
 * Fault in the caller's buffer to be read; a chunk at a time, so that a
 * fatal signal ends a long one.
 */
static int ntmem_probe_user(const char __user *buf, u64 len)
{
	while (len) {
		size_t chunk = min_t(u64, len, SZ_16M);

		if (fault_in_readable(buf, chunk))
			return -EFAULT;
		if (fatal_signal_pending(current))
			return -EINTR;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * READ_MEMORY and WRITE_MEMORY.  On Windows a caller's buffer that cannot
 * be read (write) or written (read) fails the call with nothing copied:
 * WRITE_MEMORY checks the buffer first, so that the target is not changed
 * in part -- a buffer that fails after that check (unmapped meanwhile)
 * leaves the bytes before it written, and @done says how many;
 * READ_MEMORY reports 0 bytes when the buffer fails on the way.  @done
 * reaches the caller also when the copy stopped early.
 */
int ntmem_target_copy(const struct ntmem_ctx *c, void __user *uarg,
		      bool write)
{
	struct ntmem_memory_copy a;
	int usize = ntmem_copy_in(&a, sizeof(a), uarg);
	char __user *buf;
	u64 done = 0;
	int err = 0, out;

	if (usize < 0)
		return usize;
	if (a.flags || !ntmem_zeroed(a.reserved, ARRAY_SIZE(a.reserved)))
		return -EINVAL;
	if (usize < offsetofend(struct ntmem_memory_copy, done))
		return -EINVAL;
	buf = u64_to_user_ptr(a.buf);
	if (a.length > TASK_SIZE || a.addr > TASK_SIZE - a.length)
		err = -EIO;
	else if (write)
		err = ntmem_probe_user(buf, a.length);
	if (!err && c->target)
		err = ntmem_remote_copy(c->target, a.addr, buf, a.length, write,
					&done);
	else if (!err)
		err = ntmem_own_copy(a.addr, buf, a.length, write, &done);
	/* a read's buffer was the caller's to lose; a write's bytes are there */
	a.done = err == -EFAULT && !write ? 0 : done;
	out = ntmem_copy_out(uarg, &a, sizeof(a), usize);
	return err ?: out;
}
