// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sections and views: CreateFileMapping, OpenFileMapping, MapViewOfFile
 * (Ex, 2, 3: over a placeholder too), UnmapViewOfFile (Ex, 2: back to the
 * placeholder too), FlushViewOfFile.  A section is a descriptor of the
 * kernel's (handle.c makes it a HANDLE), backed by the paging file (that
 * is, ntmem's memory) or by a file, given as the HANDLE of its descriptor
 * (ntmem_handle_from_fd()); a view is an allocation of type MEM_MAPPED.  The
 * library parses Windows' names (its "Global\" and "Local\" prefixes name
 * the one per-user namespace the kernel keeps) and hands them to the
 * kernel as UTF-8 bytes; each call makes one ioctl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define SECTION_ATTRS	(SEC_COMMIT | SEC_RESERVE)
#define VIEW_ACCESS	(FILE_MAP_ALL_ACCESS | FILE_MAP_EXECUTE)
#define VIEW_TYPES	(MEM_RESERVE | MEM_TOP_DOWN | \
			 MEM_REPLACE_PLACEHOLDER | MEM_LARGE_PAGES)
#define UNMAP_FLAGS	(MEM_UNMAP_WITH_TRANSIENT_BOOST | \
			 MEM_PRESERVE_PLACEHOLDER)

/* A name as the kernel takes it; @len 0 for none. */
struct name {
	const char *bytes;
	size_t len;
	/* a W name in UTF-8, and room to go one code point over the limit */
	char buf[NTMEM_SECTION_NAME_MAX + 4];
};

static const char *const prefixes[] = { "Global\\", "Local\\" };

/* Character @i of a name: a byte of an A name, a unit of a W one. */
static WCHAR char_at(const void *s, size_t i, bool wide)
{
	return wide ? ((const WCHAR *)s)[i] : ((const unsigned char *)s)[i];
}

/* The length of the prefix @s starts with, in characters, or 0. */
static size_t prefix_len(const void *s, bool wide)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		const char *p = prefixes[i];
		size_t n = 0;

		while (p[n] && char_at(s, n, wide) == (WCHAR)p[n])
			n++;
		if (!p[n])
			return n;
	}
	return 0;
}

/*
 * UTF-16 to UTF-8, a lone surrogate as its own 3-byte sequence (WTF-8),
 * so that every Windows name has one distinct byte string.  Stops once
 * past NTMEM_SECTION_NAME_MAX bytes: the kernel refuses such a name.
 */
static size_t utf16_to_utf8(const WCHAR *s, char *out)
{
	size_t len = 0;

	for (; *s && len <= NTMEM_SECTION_NAME_MAX; s++) {
		uint32_t c = *s;

		if (c >= 0xD800 && c < 0xDC00 && s[1] >= 0xDC00 &&
		    s[1] < 0xE000) {
			c = 0x10000 + ((c - 0xD800) << 10) + (s[1] - 0xDC00);
			s++;
		}
		if (c < 0x80) {
			out[len++] = (char)c;
		} else if (c < 0x800) {
			out[len++] = (char)(0xC0 | c >> 6);
			out[len++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[len++] = (char)(0xE0 | c >> 12);
			out[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[len++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[len++] = (char)(0xF0 | c >> 18);
			out[len++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[len++] = (char)(0x80 | (c & 0x3F));
		}
	}
	return len;
}

/*
 * @s (NULL or "" for none) into @n: 0 or a Win32 error.  The prefix goes;
 * nothing may follow it but a name, which has no other backslash, as a
 * Windows name has no other directory.
 */
static DWORD parse_name(const void *s, bool wide, struct name *n)
{
	size_t skip = s ? prefix_len(s, wide) : 0, len = 0;
	const WCHAR *w = s;
	const char *a = s;

	n->bytes = NULL;
	n->len = 0;
	if (!s)
		return 0;
	if (wide) {
		w += skip;
		while (w[len] && w[len] != '\\')
			len++;
		if (w[len])
			return ERROR_PATH_NOT_FOUND;
	} else {
		a += skip;
		if (strchr(a, '\\'))
			return ERROR_PATH_NOT_FOUND;
		len = strlen(a);
	}
	/* "" is no name; a prefix alone names a namespace, not a section */
	if (!len)
		return skip ? ERROR_INVALID_NAME : 0;
	if (wide) {
		n->len = utf16_to_utf8(w, n->buf);
		n->bytes = n->buf;
	} else {
		n->len = len;
		n->bytes = a;
	}
	return 0;
}

/*
 * The kernel's new descriptor (close-on-exec) as a HANDLE; an inheritable
 * one stays open in the programs this process execs, as a Windows child
 * inherits it.  (F_SETFD cannot fail on a descriptor we hold.)
 */
static HANDLE new_handle(int fd, bool inherit)
{
	if (inherit)
		fcntl(fd, F_SETFD, 0);
	return ntmem__handle_from_fd(fd);
}

/* Windows' checks before the name, in its order: 0 or a Win32 error. */
static DWORD create_checks(HANDLE file, DWORD protect, uint64_t size)
{
	DWORD attrs = protect & ~0xFFu;

	switch (protect & 0xFF) {
	case PAGE_READONLY:
	case PAGE_READWRITE:
	case PAGE_WRITECOPY:
	case PAGE_EXECUTE_READ:
	case PAGE_EXECUTE_READWRITE:
	case PAGE_EXECUTE_WRITECOPY:
		break;
	default:
		return ERROR_INVALID_PARAMETER;
	}
	/* one of SEC_COMMIT and SEC_RESERVE; no other attribute yet */
	if (attrs && attrs != SEC_COMMIT && attrs != SEC_RESERVE)
		return ERROR_INVALID_PARAMETER;
	/* a file, or the paging file, which needs a size */
	if (file != INVALID_HANDLE_VALUE && ntmem__fd_from_handle(file) < 0)
		return ERROR_INVALID_HANDLE;
	if (file == INVALID_HANDLE_VALUE && !size)
		return ERROR_INVALID_PARAMETER;
	return 0;
}

/*
 * The access of CreateFileMapping's handle, as Windows gives it from the
 * protection: query and read, with write and execute as it allows.
 */
static uint32_t create_access(DWORD protect)
{
	uint32_t access = 0xF0000 | FILE_MAP_COPY | FILE_MAP_READ;

	switch (protect & 0xFF) {
	case PAGE_READWRITE:
		return access | FILE_MAP_WRITE;
	case PAGE_EXECUTE_READ:
	case PAGE_EXECUTE_WRITECOPY:
		return access | NTMEM_SECTION_MAP_EXECUTE;
	case PAGE_EXECUTE_READWRITE:
		return access | FILE_MAP_WRITE | NTMEM_SECTION_MAP_EXECUTE;
	default:
		return access;
	}
}

static HANDLE create(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect,
		     DWORD size_high, DWORD size_low, const void *name,
		     bool wide)
{
	struct ntmem_section s = {
		.size = sizeof(s),
		.flags = protect & SECTION_ATTRS,
		.max_size = ((uint64_t)size_high << 32) | size_low,
		.protect = protect & 0xFF,
		.access = create_access(protect),
	};
	struct name n;
	DWORD code;
	HANDLE h;
	int err;

	code = create_checks(file, protect, s.max_size);
	if (!code)
		code = parse_name(name, wide, &n);
	if (code) {
		ntmem__fail(code);
		return NULL;
	}
	s.name = (uintptr_t)n.bytes;
	s.name_len = n.len;
	if (file != INVALID_HANDLE_VALUE) {
		s.flags |= NTMEM_SECTION_FILE;
		s.file = ntmem__fd_from_handle(file);
	}
	err = ntmem__ioctl(NTMEM_IOC_SECTION_CREATE, &s);
	if (err) {
		ntmem__fail(ntmem__section_error_from_errno(err));
		return NULL;
	}
	h = new_handle(s.fd, sa && sa->bInheritHandle);
	/* Windows says whether the name was taken, on success too */
	SetLastError(s.existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
	return h;
}

HANDLE CreateFileMappingA(HANDLE hFile,
			  LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
			  DWORD flProtect, DWORD dwMaximumSizeHigh,
			  DWORD dwMaximumSizeLow, LPCSTR lpName)
{
	return create(hFile, lpFileMappingAttributes, flProtect,
		      dwMaximumSizeHigh, dwMaximumSizeLow, lpName, false);
}

HANDLE CreateFileMappingW(HANDLE hFile,
			  LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
			  DWORD flProtect, DWORD dwMaximumSizeHigh,
			  DWORD dwMaximumSizeLow, LPCWSTR lpName)
{
	return create(hFile, lpFileMappingAttributes, flProtect,
		      dwMaximumSizeHigh, dwMaximumSizeLow, lpName, true);
}

static HANDLE open_section(DWORD access, BOOL inherit, const void *name,
			   bool wide)
{
	struct ntmem_section s = { .size = sizeof(s), .access = access };
	struct name n;
	DWORD code;
	int err;

	if (!name) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	code = parse_name(name, wide, &n);
	if (!code && !n.len)
		code = ERROR_INVALID_NAME;	/* "" names no section */
	if (code) {
		ntmem__fail(code);
		return NULL;
	}
	/* A copy-on-write view only reads the section: as Windows, ask that */
	if ((access & ~(DWORD)FILE_MAP_EXECUTE) == FILE_MAP_COPY)
		s.access = (access & FILE_MAP_EXECUTE) | FILE_MAP_READ;
	s.name = (uintptr_t)n.bytes;
	s.name_len = n.len;
	err = ntmem__ioctl(NTMEM_IOC_SECTION_OPEN, &s);
	if (err) {
		ntmem__fail(ntmem__section_error_from_errno(err));
		return NULL;
	}
	return new_handle(s.fd, inherit);
}

HANDLE OpenFileMappingA(DWORD dwDesiredAccess, BOOL bInheritHandle,
			LPCSTR lpName)
{
	return open_section(dwDesiredAccess, bInheritHandle, lpName, false);
}

HANDLE OpenFileMappingW(DWORD dwDesiredAccess, BOOL bInheritHandle,
			LPCWSTR lpName)
{
	return open_section(dwDesiredAccess, bInheritHandle, lpName, true);
}

/*
 * A view's access as Windows derives the view's protection from it:
 * exactly FILE_MAP_COPY is copy-on-write, else WRITE wins over READ;
 * EXECUTE adds to either.  False for nothing to map or unknown bits.
 */
static bool view_access(DWORD access, uint32_t *out)
{
	DWORD a = access & ~(DWORD)FILE_MAP_EXECUTE;

	if (access & ~(DWORD)VIEW_ACCESS)
		return false;
	if (a == FILE_MAP_COPY)
		*out = NTMEM_FILE_MAP_COPY;
	else if (a & FILE_MAP_WRITE)
		*out = NTMEM_FILE_MAP_WRITE;
	else if (a & FILE_MAP_READ)
		*out = NTMEM_FILE_MAP_READ;
	else
		return false;
	if (access & FILE_MAP_EXECUTE)
		*out |= NTMEM_FILE_MAP_EXECUTE;
	return true;
}

/*
 * A view's access as Windows derives it from MapViewOfFile3's page
 * protection; false for a protection no view has here (PAGE_NOACCESS: an
 * inaccessible view, modifiers).
 */
static bool protect_access(ULONG protect, uint32_t *out)
{
	switch (protect) {
	case PAGE_READONLY:
		*out = NTMEM_FILE_MAP_READ;
		return true;
	case PAGE_READWRITE:
		*out = NTMEM_FILE_MAP_WRITE;
		return true;
	case PAGE_WRITECOPY:
		*out = NTMEM_FILE_MAP_COPY;
		return true;
	case PAGE_EXECUTE:
	case PAGE_EXECUTE_READ:
		*out = NTMEM_FILE_MAP_READ | NTMEM_FILE_MAP_EXECUTE;
		return true;
	case PAGE_EXECUTE_READWRITE:
		*out = NTMEM_FILE_MAP_WRITE | NTMEM_FILE_MAP_EXECUTE;
		return true;
	case PAGE_EXECUTE_WRITECOPY:
		*out = NTMEM_FILE_MAP_COPY | NTMEM_FILE_MAP_EXECUTE;
		return true;
	default:
		return false;
	}
}

/*
 * MAP_VIEW of section descriptor @fd into process @proc, arguments checked: the
 * view, or NULL.  @flags: NTMEM_RESERVE_TOP_DOWN, NTMEM_RESERVE_REPLACE (with a
 * base).  The kernel checks alignment (ERROR_MAPPED_ALIGNMENT).
 */
static LPVOID map_view(int proc, int fd, uint32_t access, uint64_t offset,
		       SIZE_T bytes, uintptr_t base, uint32_t flags)
{
	struct ntmem_view v = {
		.size = sizeof(v),
		.flags = flags,
		.addr = base,
		.offset = offset,
		.length = bytes,
		.section = fd,
		.access = access,
	};
	int err;

	if (base)
		v.flags = (flags & ~NTMEM_RESERVE_TOP_DOWN) |
			  NTMEM_RESERVE_FIXED;
	err = ntmem__process_ioctl(proc, NTMEM_IOC_MAP_VIEW, &v);
	if (err == -ENXIO && (flags & NTMEM_RESERVE_REPLACE)) {
		/* bytes 0 (the rest of the section): the length is unknown */
		ntmem__fail(ntmem__replace_error(proc, base,
			(bytes + NTMEM__PAGE - 1) & ~(NTMEM__PAGE - 1)));
		return NULL;
	}
	if (err) {
		ntmem__fail(ntmem__section_error_from_errno(err));
		return NULL;
	}
	return (LPVOID)(uintptr_t)v.addr;
}

LPVOID MapViewOfFileEx(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
		       DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
		       SIZE_T dwNumberOfBytesToMap, LPVOID lpBaseAddress)
{
	int fd = ntmem__fd_from_handle(hFileMappingObject);
	uint32_t access;

	if (!view_access(dwDesiredAccess, &access)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (fd < 0) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return NULL;
	}
	return map_view(NTMEM__SELF, fd, access,
			((uint64_t)dwFileOffsetHigh << 32) | dwFileOffsetLow,
			dwNumberOfBytesToMap, (uintptr_t)lpBaseAddress, 0);
}

LPVOID MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
		     DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
		     SIZE_T dwNumberOfBytesToMap)
{
	return MapViewOfFileEx(hFileMappingObject, dwDesiredAccess,
			       dwFileOffsetHigh, dwFileOffsetLow,
			       dwNumberOfBytesToMap, NULL);
}

/*
 * MapViewOfFile3 checks as NtMapViewOfSectionEx does: the extended
 * parameters (no alignment for a view, no bounds with an address), the
 * type, the alignment of offset and address (a page over a placeholder,
 * else 64 KiB), the process (NULL is this one), then, as MapViewOfFileEx,
 * the protection and the handle.
 */
PVOID MapViewOfFile3(HANDLE FileMapping, HANDLE Process, PVOID BaseAddress,
		     ULONG64 Offset, SIZE_T ViewSize, ULONG AllocationType,
		     ULONG PageProtection,
		     MEM_EXTENDED_PARAMETER *ExtendedParameters,
		     ULONG ParameterCount)
{
	bool replace = AllocationType & MEM_REPLACE_PLACEHOLDER;
	uintptr_t base = (uintptr_t)BaseAddress;
	uint64_t mask = (replace ? NTMEM__PAGE : NTMEM__GRANULE) - 1;
	int fd = ntmem__fd_from_handle(FileMapping), proc = NTMEM__SELF;
	struct ntmem__bounds b;
	uint32_t access;
	DWORD code;

	code = ntmem__extended_params(ExtendedParameters, ParameterCount, &b);
	if (!code && (b.alignment || (base && ntmem__bounded(&b)) ||
		      (AllocationType & ~(DWORD)VIEW_TYPES)))
		code = ERROR_INVALID_PARAMETER;
	if (!code && ((Offset & mask) || (base & mask)))
		code = ERROR_MAPPED_ALIGNMENT;
	if (!code && Process)
		code = ntmem__process(Process, &proc);
	if (!code && !protect_access(PageProtection, &access))
		code = ERROR_INVALID_PARAMETER;
	if (!code && fd < 0)
		code = ERROR_INVALID_HANDLE;
	if (!code && replace && !base)	/* no placeholder at NULL */
		code = ERROR_INVALID_PARAMETER;
	/*
	 * Not here: reserved views, large-page views, bounds for a view
	 * (MAP_VIEW takes none), placeholders in an older module.
	 */
	if (!code && ((AllocationType & (MEM_RESERVE | MEM_LARGE_PAGES)) ||
		      ntmem__bounded(&b) ||
		      (replace && !ntmem__has(NTMEM_FEATURE_PLACEHOLDERS))))
		code = ERROR_NOT_SUPPORTED;
	if (code) {
		ntmem__fail(code);
		return NULL;
	}
	return map_view(proc, fd, access, Offset, ViewSize, base,
			(replace ? NTMEM_RESERVE_REPLACE : 0) |
			(AllocationType & MEM_TOP_DOWN ?
			 NTMEM_RESERVE_TOP_DOWN : 0));
}

/* An inline over MapViewOfFileNuma2 in Windows' header; one node here. */
PVOID MapViewOfFile2(HANDLE FileMappingHandle, HANDLE ProcessHandle,
		     ULONG64 Offset, PVOID BaseAddress, SIZE_T ViewSize,
		     ULONG AllocationType, ULONG PageProtection)
{
	return MapViewOfFile3(FileMappingHandle, ProcessHandle, BaseAddress,
			      Offset, ViewSize, AllocationType, PageProtection,
			      NULL, 0);
}

/*
 * UNMAP_VIEW of the view holding @addr (any address in it) in @proc, with
 * MEM_PRESERVE_PLACEHOLDER back to the placeholder it replaced.
 */
static BOOL unmap_view(int proc, uintptr_t addr, ULONG flags)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.addr = addr & ~(NTMEM__PAGE - 1),
	};
	int err;

	if (addr < NTMEM_MIN_ADDRESS || addr > NTMEM__MAX_USER) {
		ntmem__fail(ERROR_INVALID_ADDRESS);	/* never a view */
		return FALSE;
	}
	if (flags & MEM_PRESERVE_PLACEHOLDER) {
		if (!ntmem__has(NTMEM_FEATURE_PLACEHOLDERS)) {
			ntmem__fail(ERROR_NOT_SUPPORTED);
			return FALSE;
		}
		r.flags = NTMEM_RELEASE_PRESERVE;
	}
	/* ENXIO: no view there, or (preserving) none over a placeholder */
	err = ntmem__process_ioctl(proc, NTMEM_IOC_UNMAP_VIEW, &r);
	if (err) {
		ntmem__fail(ntmem__section_error_from_errno(err));
		return FALSE;
	}
	return TRUE;
}

BOOL UnmapViewOfFile(LPCVOID lpBaseAddress)
{
	return unmap_view(NTMEM__SELF, (uintptr_t)lpBaseAddress, 0);
}

/* MEM_UNMAP_WITH_TRANSIENT_BOOST is a hint about page priority: ignored. */
BOOL UnmapViewOfFileEx(PVOID BaseAddress, ULONG UnmapFlags)
{
	if (UnmapFlags & ~(ULONG)UNMAP_FLAGS) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	return unmap_view(NTMEM__SELF, (uintptr_t)BaseAddress, UnmapFlags);
}

/* The flags first, then the process, as NtUnmapViewOfSectionEx. */
BOOL UnmapViewOfFile2(HANDLE Process, PVOID BaseAddress, ULONG UnmapFlags)
{
	DWORD code = 0;
	int proc;

	if (UnmapFlags & ~(ULONG)UNMAP_FLAGS)
		code = ERROR_INVALID_PARAMETER;
	if (!code)
		code = ntmem__process(Process, &proc);
	if (code) {
		ntmem__fail(code);
		return FALSE;
	}
	return unmap_view(proc, (uintptr_t)BaseAddress, UnmapFlags);
}

/*
 * Writes a file view's pages in [addr, addr + n) back to the file and
 * waits (n 0: to the end of the view), as msync(MS_SYNC) does; a view of
 * a paging-file section has nothing to write.  The address must be in a
 * view.
 */
BOOL FlushViewOfFile(LPCVOID lpBaseAddress, SIZE_T dwNumberOfBytesToFlush)
{
	uintptr_t addr = (uintptr_t)lpBaseAddress, start, end;
	struct ntmem_query q = { .size = sizeof(q), .addr = addr };
	int err;

	if (addr < NTMEM_MIN_ADDRESS || addr > NTMEM__MAX_USER) {
		ntmem__fail(ERROR_INVALID_ADDRESS);
		return FALSE;
	}
	err = ntmem__ioctl(NTMEM_IOC_QUERY, &q);
	if (err) {	/* EINTR: ERROR_NOT_ENOUGH_MEMORY */
		ntmem__fail(ntmem__section_error_from_errno(err));
		return FALSE;
	}
	if (q.type != NTMEM_TYPE_MAPPED ||
	    (q.state != NTMEM_STATE_COMMIT && q.state != NTMEM_STATE_RESERVE)) {
		ntmem__fail(ERROR_INVALID_ADDRESS);
		return FALSE;
	}
	start = addr & ~(NTMEM__PAGE - 1);
	end = q.alloc_base + q.alloc_size;
	if (dwNumberOfBytesToFlush && dwNumberOfBytesToFlush < end - addr)
		end = addr + dwNumberOfBytesToFlush;
	/* the file system's write error, as Windows reports an I/O error */
	if (msync((void *)start, end - start, MS_SYNC)) {
		ntmem__fail(ERROR_GEN_FAILURE);
		return FALSE;
	}
	return TRUE;
}
