// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: ReadProcessMemory and WriteProcessMemory (READ_MEMORY and
 * WRITE_MEMORY), on a process descriptor's target or on the caller's own
 * memory.  Copies run in the caller: the target's pages are pinned and
 * copied once, as process_vm_readv() does, and a page that refuses goes
 * through /proc/PID/mem, as a debugger reaches it.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "ntmem.h"
#include "ntmem_compat.h"

static_assert(sizeof(struct ntmem_memory_copy) == 56);

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
		/* the memory ends there (ntmem_target_ioctl() holds the mm) */
		if (n <= 0)
			return -EIO;
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
