// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VirtualAlloc, VirtualFree, VirtualQuery, VirtualProtect and their Ex
 * forms (spec section 4), and VirtualAlloc2 with placeholders and address
 * requirements, in this process or another (process.c: the same ioctls
 * on a process descriptor).  Each checks its arguments in Windows' order,
 * rounds through ntmem__round() and makes one ioctl that does the work
 * atomically; the kernel's errno becomes the Win32 code in one place.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define ALLOC_OPS	(MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO)
#define ALLOC_TYPES	(ALLOC_OPS | MEM_TOP_DOWN | MEM_WRITE_WATCH | \
			 MEM_PHYSICAL | MEM_LARGE_PAGES)
#define PLACEHOLDER_TYPES (MEM_RESERVE_PLACEHOLDER | MEM_REPLACE_PLACEHOLDER)
#define FREE_PLACEHOLDER (MEM_PRESERVE_PLACEHOLDER | MEM_COALESCE_PLACEHOLDERS)
#define LARGE_PAGE	0x200000UL

/*
 * Spec 4.1.1 rule 2: 87 unless @type is a valid combination; the
 * placeholder types are VirtualAlloc2's (@placeholders).
 */
static bool alloc_type_valid(uintptr_t addr, SIZE_T size, DWORD type,
			     DWORD protect, bool placeholders)
{
	DWORD types = ALLOC_TYPES | (placeholders ? PLACEHOLDER_TYPES : 0);

	if (!(type & ALLOC_OPS) || (type & ~types))
		return false;
	if ((type & MEM_RESET) && type != MEM_RESET)
		return false;
	if ((type & MEM_RESET_UNDO) && type != MEM_RESET_UNDO)
		return false;
	if ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE))
		return false;
	if ((type & MEM_LARGE_PAGES) &&
	    ((type & (MEM_RESERVE | MEM_COMMIT)) != (MEM_RESERVE | MEM_COMMIT) ||
	     size % LARGE_PAGE || addr % LARGE_PAGE))
		return false;
	if ((type & MEM_PHYSICAL) &&
	    (!(type & MEM_RESERVE) ||
	     (type & ~(DWORD)(MEM_RESERVE | MEM_PHYSICAL | MEM_TOP_DOWN)) ||
	     protect != PAGE_READWRITE))
		return false;
	/* a placeholder is address space alone, never accessible */
	if ((type & MEM_RESERVE_PLACEHOLDER) &&
	    ((type & ~(DWORD)MEM_TOP_DOWN) !=
	     (MEM_RESERVE | MEM_RESERVE_PLACEHOLDER) ||
	     protect != PAGE_NOACCESS))
		return false;
	/* replacing one reserves, at its address */
	if ((type & MEM_REPLACE_PLACEHOLDER) &&
	    (!(type & MEM_RESERVE) || !addr))
		return false;
	return true;
}

/* QUERY of one address of @proc: 0 or a Win32 error code. */
static DWORD query(int proc, uintptr_t addr, struct ntmem_query *q)
{
	int err;

	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->addr = addr;
	err = ntmem__process_ioctl(proc, NTMEM_IOC_QUERY, q);
	return err ? ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS) : 0;
}

/*
 * The kernel refused to replace [start, start + len) (ENXIO): it is not
 * exactly one placeholder.  Windows tells nothing there, and an allocation
 * there that is not a placeholder (87), from a range that does not match
 * (487).  @len 0: the length is not known, only the base counts.
 */
DWORD ntmem__replace_error(int proc, uintptr_t start, uintptr_t len)
{
	struct ntmem_query q;
	DWORD code = query(proc, start, &q);

	if (code)
		return code;
	if (q.state != NTMEM_STATE_COMMIT && q.state != NTMEM_STATE_RESERVE)
		return ERROR_INVALID_PARAMETER;
	if (q.alloc_base == start && (!len || q.alloc_size == len) &&
	    q.type != NTMEM_TYPE_PLACEHOLDER)
		return ERROR_INVALID_PARAMETER;
	return ERROR_INVALID_ADDRESS;
}

/*
 * A new allocation (4.1.3), committed too with MEM_COMMIT, or a
 * placeholder, or an allocation over one, within @b: one ioctl.
 */
static LPVOID alloc_new(int proc, uintptr_t addr, SIZE_T size, DWORD type,
			DWORD protect, const struct ntmem__bounds *b)
{
	struct ntmem_reserve r = {
		.size = sizeof(r),
		.protect = ntmem__protect_to_kernel(protect),
		.lowest = b->lowest,
		.highest = b->highest,
		.alignment = b->alignment,
	};
	bool replace = type & MEM_REPLACE_PLACEHOLDER;
	uintptr_t start, end;
	int err;

	/* a placeholder is replaced from its first page, 64 KiB or not */
	ntmem__round(addr, size, replace ? NTMEM__ROUND_PAGES :
		     NTMEM__ROUND_ALLOCATION, &start, &end);
	r.addr = start;
	r.length = end - start;
	if (addr)
		r.flags |= NTMEM_RESERVE_FIXED;
	else if (type & MEM_TOP_DOWN)
		r.flags |= NTMEM_RESERVE_TOP_DOWN;
	if (type & MEM_COMMIT)
		r.flags |= NTMEM_RESERVE_COMMIT;
	if (type & MEM_WRITE_WATCH)	/* only with MEM_RESERVE (checked) */
		r.flags |= NTMEM_RESERVE_WRITE_WATCH;
	if (type & MEM_LARGE_PAGES)	/* with both, 2 MiB multiples (checked) */
		r.flags |= NTMEM_RESERVE_LARGE_PAGES;
	if (type & MEM_RESERVE_PLACEHOLDER)
		r.flags |= NTMEM_RESERVE_PLACEHOLDER;
	if (replace)			/* at an address (checked) */
		r.flags |= NTMEM_RESERVE_REPLACE;
	err = ntmem__process_ioctl(proc, NTMEM_IOC_RESERVE, &r);
	if (err == -ENXIO && replace) {
		ntmem__fail(ntmem__replace_error(proc, start, end - start));
		return NULL;
	}
	if (err && (type & MEM_LARGE_PAGES) && err == -EPERM) {
		/* CAP_IPC_LOCK is Linux's SeLockMemoryPrivilege */
		ntmem__fail(ERROR_PRIVILEGE_NOT_HELD);
		return NULL;
	}
	if (err && (type & MEM_LARGE_PAGES) && err == -ENOMEM) {
		/* no free 2 MiB page for each, as Windows says it */
		ntmem__fail(ERROR_NO_SYSTEM_RESOURCES);
		return NULL;
	}
	if (err) {
		ntmem__fail(ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS));
		return NULL;
	}
	return (LPVOID)(uintptr_t)r.addr;
}

/* COMMIT (4.1.5), RESET (4.1.6), RESET_UNDO (4.1.7) inside an allocation. */
static LPVOID alloc_range(int proc, unsigned long cmd, uintptr_t addr,
			  SIZE_T size, uint32_t protect)
{
	struct ntmem_range r = { .size = sizeof(r), .protect = protect };
	uintptr_t start, end;
	int err;

	ntmem__round(addr, size, NTMEM__ROUND_PAGES, &start, &end);
	r.addr = start;
	r.length = end - start;
	err = ntmem__process_ioctl(proc, cmd, &r);
	/* COMMIT in a view: more than the view's access allows */
	if (err == -EACCES && cmd == NTMEM_IOC_COMMIT) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (err) {
		ntmem__fail(ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS));
		return NULL;
	}
	return (LPVOID)start;
}

/*
 * VirtualAllocEx's and VirtualAlloc2's work once the process is known
 * (@proc): the checks of spec 4.1.1, then one ioctl.
 */
static LPVOID alloc(int proc, uintptr_t addr, SIZE_T size, DWORD type,
		    DWORD protect, const struct ntmem__bounds *b,
		    bool placeholders)
{
	if (!size ||
	    !alloc_type_valid(addr, size, type, protect, placeholders) ||
	    !ntmem__protect_valid(protect) ||
	    (addr && addr < NTMEM_MIN_ADDRESS) ||
	    ntmem__range_bad(addr, size) ||
	    (!addr && (type & (MEM_RESET | MEM_RESET_UNDO)))) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	/* No AWE; no placeholders or bounds in an older module. */
	if ((type & MEM_PHYSICAL) ||
	    (((type & PLACEHOLDER_TYPES) || ntmem__bounded(b)) &&
	     !ntmem__has(NTMEM_FEATURE_PLACEHOLDERS))) {
		ntmem__fail(ERROR_NOT_SUPPORTED);
		return NULL;
	}

	if ((type & MEM_RESERVE) || !addr) {
		if (b->empty) {		/* bounds that hold no place */
			ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
			return NULL;
		}
		return alloc_new(proc, addr, size, type, protect, b);
	}
	if (type & MEM_RESET)
		return alloc_range(proc, NTMEM_IOC_RESET, addr, size, 0);
	if (type & MEM_RESET_UNDO)
		return alloc_range(proc, NTMEM_IOC_RESET_UNDO, addr, size, 0);
	return alloc_range(proc, NTMEM_IOC_COMMIT, addr, size,
			   ntmem__protect_to_kernel(protect));
}

LPVOID VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		      DWORD flAllocationType, DWORD flProtect)
{
	static const struct ntmem__bounds anywhere;
	DWORD code;
	int proc;

	code = ntmem__process(hProcess, &proc);
	if (code) {
		ntmem__fail(code);
		return NULL;
	}
	return alloc(proc, (uintptr_t)lpAddress, dwSize, flAllocationType,
		     flProtect, &anywhere, false);
}

/*
 * As NtAllocateVirtualMemoryEx checks: the extended parameters, the type,
 * bounds given with an address, the size, and only then the process (NULL
 * is this one); the rest is VirtualAllocEx's.
 */
PVOID VirtualAlloc2(HANDLE Process, PVOID BaseAddress, SIZE_T Size,
		    ULONG AllocationType, ULONG PageProtection,
		    MEM_EXTENDED_PARAMETER *ExtendedParameters,
		    ULONG ParameterCount)
{
	uintptr_t addr = (uintptr_t)BaseAddress;
	int proc = NTMEM__SELF;
	struct ntmem__bounds b;
	DWORD code;

	code = ntmem__extended_params(ExtendedParameters, ParameterCount, &b);
	if (!code &&
	    ((AllocationType & ~(DWORD)(ALLOC_TYPES | PLACEHOLDER_TYPES)) ||
	     (addr && ntmem__bounded(&b)) || !Size))
		code = ERROR_INVALID_PARAMETER;
	if (!code && Process)
		code = ntmem__process(Process, &proc);
	if (code) {
		ntmem__fail(code);
		return NULL;
	}
	return alloc(proc, addr, Size, AllocationType, PageProtection, &b, true);
}

LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
		    DWORD flProtect)
{
	return VirtualAllocEx(GetCurrentProcess(), lpAddress, dwSize,
			      flAllocationType, flProtect);
}

/*
 * VirtualQuery in one ioctl: the kernel stores the answer in @mbi, or
 * fails with EFAULT when it cannot (ERROR_NOACCESS).
 */
static SIZE_T query_into(int proc, uintptr_t addr,
			 PMEMORY_BASIC_INFORMATION mbi)
{
	struct ntmem_query q = { .size = sizeof(q), .addr = addr,
				 .info = (uintptr_t)mbi };
	int err;

	_Static_assert(sizeof(*mbi) == sizeof(struct ntmem_basic_info),
		       "the kernel's MEMORY_BASIC_INFORMATION");
	if (!mbi) {
		ntmem__fail(ERROR_NOACCESS);
		return 0;
	}
	err = ntmem__process_ioctl(proc, NTMEM_IOC_QUERY, &q);
	if (err) {	/* EFAULT: ERROR_NOACCESS */
		ntmem__fail(ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS));
		return 0;
	}
	return sizeof(*mbi);
}

static int free_range(int proc, unsigned long cmd, uintptr_t start,
		      uintptr_t len, DWORD not_inside)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = start,
				 .length = len };
	int err = ntmem__process_ioctl(proc, cmd, &r);

	if (err) {
		ntmem__fail(ntmem__error_from_errno(err, not_inside));
		return FALSE;
	}
	return TRUE;
}

/*
 * VirtualFree in one ioctl: the kernel checks that the first page is a
 * reservation's base (dwSize 0) or that the range lies inside one.  Only
 * when it does not is the first page looked up, to tell Windows' two
 * errors apart: outside any allocation 487, past its end 87.
 */
static BOOL free_direct(int proc, uintptr_t addr, SIZE_T size, DWORD type)
{
	struct ntmem_range r = { .size = sizeof(r) };
	uintptr_t start, end;
	struct ntmem_query q;
	int err;

	ntmem__round(addr, size, NTMEM__ROUND_PAGES, &start, &end);
	if (start < NTMEM_MIN_ADDRESS) {
		ntmem__fail(ERROR_INVALID_ADDRESS);	/* never allocated */
		return FALSE;
	}
	if (!size)
		return free_range(proc, type == MEM_RELEASE ? NTMEM_IOC_RELEASE :
				  NTMEM_IOC_DECOMMIT, start, 0,
				  ERROR_INVALID_ADDRESS);
	r.addr = start;
	r.length = end - start;
	err = ntmem__process_ioctl(proc, NTMEM_IOC_DECOMMIT, &r);
	if (!err)
		return TRUE;
	if (-err == ENXIO) {
		DWORD qerr = query(proc, addr, &q);

		if (!qerr && q.state != NTMEM_STATE_COMMIT &&
		    q.state != NTMEM_STATE_RESERVE)
			qerr = ERROR_INVALID_ADDRESS;
		if (qerr) {
			ntmem__fail(qerr);
			return FALSE;
		}
	}
	ntmem__fail(ntmem__error_from_errno(err, ERROR_INVALID_PARAMETER));
	return FALSE;
}

/*
 * Why a placeholder split or join failed (@err, 0 if the kernel was not
 * asked), in Windows' order: nothing allocated at the address 487, a view
 * 87, size 0 away from an allocation's base 487 and at it 87, a split
 * running past the allocation 87, then what the kernel found: not
 * placeholders that fit 487, a reservation over a placeholder given back
 * only whole (EINVAL) 87.
 */
static DWORD placeholder_error(int proc, uintptr_t start, uintptr_t end,
			       SIZE_T size, DWORD type, int err)
{
	struct ntmem_query q;
	DWORD code = query(proc, start, &q);

	if (code)
		return code;
	if (q.state != NTMEM_STATE_COMMIT && q.state != NTMEM_STATE_RESERVE)
		return ERROR_INVALID_ADDRESS;
	if (q.type == NTMEM_TYPE_MAPPED)
		return ERROR_INVALID_PARAMETER;	/* UnmapViewOfFile2's */
	if (!size)
		return q.base != q.alloc_base ? ERROR_INVALID_ADDRESS :
						ERROR_INVALID_PARAMETER;
	if ((type & MEM_PRESERVE_PLACEHOLDER) &&
	    end > q.alloc_base + q.alloc_size)
		return ERROR_INVALID_PARAMETER;
	return ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS);
}

/*
 * MEM_RELEASE with MEM_PRESERVE_PLACEHOLDER (an allocation made over a
 * placeholder back to it, or a placeholder split) or with
 * MEM_COALESCE_PLACEHOLDERS: one RELEASE ioctl; a failure is looked into.
 * Size 0 never does (the kernel would take it for the whole allocation).
 */
static BOOL free_placeholder(int proc, uintptr_t addr, SIZE_T size,
			     DWORD type)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.flags = type & MEM_PRESERVE_PLACEHOLDER ?
			 NTMEM_RELEASE_PRESERVE : NTMEM_RELEASE_COALESCE,
	};
	uintptr_t start, end;
	int err = 0;

	if (!ntmem__has(NTMEM_FEATURE_PLACEHOLDERS)) {
		ntmem__fail(ERROR_NOT_SUPPORTED);
		return FALSE;
	}
	ntmem__round(addr, size, NTMEM__ROUND_PAGES, &start, &end);
	if (start < NTMEM_MIN_ADDRESS) {
		ntmem__fail(ERROR_INVALID_ADDRESS);	/* never allocated */
		return FALSE;
	}
	if (size) {
		r.addr = start;
		r.length = end - start;
		err = ntmem__process_ioctl(proc, NTMEM_IOC_RELEASE, &r);
		if (!err)
			return TRUE;
	}
	ntmem__fail(placeholder_error(proc, start, end, size, type, err));
	return FALSE;
}

/* Spec 4.2; the placeholder types are VirtualAlloc2's (Windows 10). */
BOOL VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		   DWORD dwFreeType)
{
	uintptr_t addr = (uintptr_t)lpAddress, start, end, alloc_end;
	DWORD type = dwFreeType;
	struct ntmem_query q;
	DWORD err;
	int proc;

	err = ntmem__process(hProcess, &proc);
	if (err) {
		ntmem__fail(err);
		return FALSE;
	}
	if ((type != MEM_DECOMMIT && type != MEM_RELEASE &&
	     type != (MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) &&
	     type != (MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)) ||
	    (type == MEM_RELEASE && dwSize) ||
	    ntmem__range_bad(addr, dwSize)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	if (type & FREE_PLACEHOLDER)
		return free_placeholder(proc, addr, dwSize, type);
	if (ntmem__has(NTMEM_FEATURE_DECOMMIT_WHOLE))
		return free_direct(proc, addr, dwSize, dwFreeType);
	/* The allocation holding the first page: its base and size. */
	err = query(proc, addr, &q);
	if (err) {
		ntmem__fail(err);
		return FALSE;
	}
	if (q.state != NTMEM_STATE_COMMIT && q.state != NTMEM_STATE_RESERVE) {
		ntmem__fail(ERROR_INVALID_ADDRESS);	/* free or not ntmem's */
		return FALSE;
	}
	alloc_end = q.alloc_base + q.alloc_size;

	if (!dwSize) {
		if (q.base != q.alloc_base) {
			ntmem__fail(ERROR_INVALID_ADDRESS);
			return FALSE;
		}
		if (dwFreeType == MEM_RELEASE)
			return free_range(proc, NTMEM_IOC_RELEASE, q.alloc_base,
					  0, ERROR_INVALID_ADDRESS);
		return free_range(proc, NTMEM_IOC_DECOMMIT, q.alloc_base,
				  q.alloc_size, ERROR_INVALID_ADDRESS);
	}
	ntmem__round(addr, dwSize, NTMEM__ROUND_PAGES, &start, &end);
	if (end > alloc_end) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	/* Past the check above, a range not in one reservation ran past it. */
	return free_range(proc, NTMEM_IOC_DECOMMIT, start, end - start,
			  ERROR_INVALID_PARAMETER);
}

BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
	return VirtualFreeEx(GetCurrentProcess(), lpAddress, dwSize,
			     dwFreeType);
}

/*
 * Spec 4.3.  Memory ntmem did not create (the image, libraries, the stack,
 * the heap, other mmaps) is never reported free: it shows as committed
 * MEM_MAPPED memory, with its mapping as the allocation and the mapping's
 * protection, so that no program mistakes it for room to allocate in.
 */
SIZE_T VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress,
		      PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)
{
	MEMORY_BASIC_INFORMATION m;
	struct ntmem_query q;
	DWORD err;
	int proc;

	err = ntmem__process(hProcess, &proc);
	if (err) {
		ntmem__fail(err);
		return 0;
	}
	if (dwLength < sizeof(m)) {
		ntmem__fail(ERROR_BAD_LENGTH);
		return 0;
	}
	if ((uintptr_t)lpAddress > NTMEM__MAX_USER) {
		/* the buffer is checked first */
		ntmem__fail(ntmem__writable(lpBuffer, sizeof(m)) ?
			    ERROR_INVALID_PARAMETER : ERROR_NOACCESS);
		return 0;
	}
	if (ntmem__has(NTMEM_FEATURE_USER_OUT))
		return query_into(proc, (uintptr_t)lpAddress, lpBuffer);
	if (!ntmem__writable(lpBuffer, sizeof(m))) {
		ntmem__fail(ERROR_NOACCESS);
		return 0;
	}
	err = query(proc, (uintptr_t)lpAddress, &q);
	if (err) {
		ntmem__fail(err);
		return 0;
	}

	memset(&m, 0, sizeof(m));
	m.BaseAddress = (PVOID)(uintptr_t)q.base;
	m.RegionSize = q.region_size;
	switch (q.state) {
	case NTMEM_STATE_COMMIT:
	case NTMEM_STATE_RESERVE:
		m.AllocationBase = (PVOID)(uintptr_t)q.alloc_base;
		m.AllocationProtect = q.alloc_protect;
		m.State = q.state;
		m.Protect = q.protect;
		/* a placeholder is private reserved memory to Windows */
		m.Type = q.type == NTMEM_TYPE_MAPPED ? MEM_MAPPED : MEM_PRIVATE;
		break;
	case NTMEM_STATE_OTHER:
		m.AllocationBase = (PVOID)(uintptr_t)q.alloc_base;
		m.AllocationProtect = q.alloc_protect;
		m.State = MEM_COMMIT;
		m.Protect = q.protect;
		m.Type = MEM_MAPPED;
		break;
	default:
		m.State = MEM_FREE;
		m.Protect = PAGE_NOACCESS;
		break;
	}
	memcpy(lpBuffer, &m, sizeof(m));
	return sizeof(m);
}

SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
		    SIZE_T dwLength)
{
	return VirtualQueryEx(GetCurrentProcess(), lpAddress, lpBuffer,
			      dwLength);
}

/* VirtualProtect fails with @code, or with 998 if @old cannot be written. */
static BOOL protect_fail(PDWORD old, DWORD code)
{
	ntmem__fail(code == ERROR_NOACCESS ||
		    ntmem__writable(old, sizeof(*old)) ? code : ERROR_NOACCESS);
	return FALSE;
}

/* Spec 4.4. */
BOOL VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		      DWORD flNewProtect, PDWORD lpflOldProtect)
{
	struct ntmem_protect p = {
		.size = sizeof(p),
		.protect = ntmem__protect_to_kernel(flNewProtect),
	};
	uintptr_t addr = (uintptr_t)lpAddress, start, end;
	bool user_out;
	DWORD code;
	int proc, err;

	code = ntmem__process(hProcess, &proc);
	if (code) {
		ntmem__fail(code);
		return FALSE;
	}
	/*
	 * Windows checks lpflOldProtect first.  With USER_OUT the kernel
	 * does, in the same call, before anything changes; the library
	 * probes it only on the way to another error.
	 */
	user_out = lpflOldProtect && ntmem__has(NTMEM_FEATURE_USER_OUT);
	if (!user_out &&
	    !ntmem__writable(lpflOldProtect, sizeof(*lpflOldProtect))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	/* The WRITECOPY values go to the kernel, which takes them in views. */
	if (!ntmem__view_protect_valid(flNewProtect) || !dwSize ||
	    ntmem__range_bad(addr, dwSize))
		return protect_fail(lpflOldProtect, ERROR_INVALID_PARAMETER);
	ntmem__round(addr, dwSize, NTMEM__ROUND_PAGES, &start, &end);
	if (start < NTMEM_MIN_ADDRESS)	/* never allocated */
		return protect_fail(lpflOldProtect, ERROR_INVALID_ADDRESS);
	/* a module without views: WRITECOPY is valid nowhere */
	if (!ntmem__protect_valid(flNewProtect) &&
	    !ntmem__has(NTMEM_FEATURE_SECTIONS))
		return protect_fail(lpflOldProtect, ERROR_INVALID_PARAMETER);
	p.addr = start;
	p.length = end - start;
	if (user_out)
		p.old_protect_out = (uintptr_t)lpflOldProtect;
	err = ntmem__process_ioctl(proc, NTMEM_IOC_PROTECT, &p);
	if (err == -EACCES)	/* in a view: more than its access allows */
		return protect_fail(lpflOldProtect, ERROR_INVALID_PARAMETER);
	if (err)	/* EFAULT: ERROR_NOACCESS */
		return protect_fail(lpflOldProtect,
				    ntmem__error_from_errno(err,
							    ERROR_INVALID_ADDRESS));
	if (!user_out)
		*lpflOldProtect = p.old_protect;
	return TRUE;
}

BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
		    PDWORD lpflOldProtect)
{
	return VirtualProtectEx(GetCurrentProcess(), lpAddress, dwSize,
				flNewProtect, lpflOldProtect);
}

/* The spec's layouts (2.2), bit for bit. */
_Static_assert(sizeof(MEMORY_BASIC_INFORMATION) == 48, "MBI size");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, AllocationBase) == 8, "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, AllocationProtect) == 16,
	       "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, PartitionId) == 20, "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, RegionSize) == 24, "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, State) == 32, "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, Protect) == 36, "");
_Static_assert(offsetof(MEMORY_BASIC_INFORMATION, Type) == 40, "");
