// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: other processes -- Windows' OpenProcess and the ...Ex calls: the
 * process descriptor.
 *
 * A process descriptor is made from the caller's /proc/PID/mem.  Opening
 * that file was Linux's own ptrace-attach decision -- credentials and
 * dumpable or CAP_SYS_PTRACE, and the LSM's ptrace hook (Yama, SELinux,
 * AppArmor) -- which a module cannot ask for itself: ptrace_may_access()
 * and the hook are not exported.  The descriptor keeps the file, and with
 * it the address space it was opened on, as /proc/PID/mem does: an exec
 * in the target leaves the descriptor with the old, dead one (ESRCH).
 *
 * It takes the ioctls of /dev/ntmem (ntmem_dispatch()) that Windows has a
 * form of for another process.  Calls that map or unmap run where the
 * target's address space is current (ntmem_remote.c); those that change
 * page state only run in the caller, under the target's mmap_lock and
 * charged to its memory cgroup (ntmem_target_call()); QUERY only reads;
 * READ_MEMORY and WRITE_MEMORY are ntmem_copy.c's.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ntmem.h"

static_assert(sizeof(struct ntmem_process) == 56);

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
