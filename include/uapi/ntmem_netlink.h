/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ntmem: the generic netlink family "ntmem" -- the control plane: module
 * statistics, per-process usage, a process's regions, commit limits, and
 * limit events.  The ioctl ABI (ntmem.h) is the data plane.
 *
 * Every attribute is validated by the family's policy; a malformed message
 * is rejected with an extended ack and changes nothing.  Sizes are in
 * bytes (multiples of the page size), counts are plain numbers; all u64
 * attributes are 64-bit aligned (NTMEM_A_PAD).
 *
 * Commands (family version NTMEM_GENL_VERSION):
 *
 *   GET_STATS     do: the module-wide counters and the commit limit;
 *                 while the limit is the automatic one, also what it is
 *                 made of: COMMIT_LIMIT = LIMIT_RAM + LIMIT_SWAP -
 *                 LIMIT_RESERVE (0 if negative).  An older module sends
 *                 no LIMIT_RAM, LIMIT_SWAP, LIMIT_RESERVE.
 *   GET_PROCESS   do with NTMEM_A_PID: one process's usage; dump: every
 *                 process that has /dev/ntmem open or ntmem memory mapped.
 *                 Reply: PID, COMM, RESERVATIONS, COMMITTED, RESIDENT,
 *                 RESET, LOCKED, LIMIT (0: no per-process limit).
 *   GET_REGIONS   dump with NTMEM_A_PID: one message per region (run of
 *                 pages alike in state and protection, as VirtualQuery
 *                 groups them) of every reservation of that process, in
 *                 address order: REGION_BASE, REGION_SIZE, ALLOC_BASE,
 *                 ALLOC_SIZE, ALLOC_PROTECT, STATE, PROTECT (0 when
 *                 reserved), RESIDENT, REGION_FLAGS, TYPE
 *                 (NTMEM_TYPE_PRIVATE, _MAPPED for a view,
 *                 _PLACEHOLDER for a Windows placeholder, which is one
 *                 region); a view adds SECTION_OFFSET, SECTION_SIZE and,
 *                 for a named section, SECTION_NAME.  The caller must be
 *                 allowed to read the process as ptrace would
 *                 (PTRACE_MODE_READ), else EPERM.
 *   SET_LIMIT     do, CAP_SYS_ADMIN only: NTMEM_A_LIMIT, in bytes, becomes
 *                 the global commit limit (0: back to the default), or,
 *                 with NTMEM_A_PID, that process's limit (0: none; ENOENT
 *                 if it has no ntmem context).  A limit below what is
 *                 committed already only stops further commits.
 *   EVENT         multicast on group "events": a commit failed at a
 *                 limit.  EVENT (enum ntmem_event), PID, COMM, REQUESTED
 *                 (the bytes the commit asked for), COMMITTED and LIMIT
 *                 (of the limit that was hit).
 *
 * Clarifications (the module's behaviour):
 *  - PIDs are thread-group ids in the requester's pid namespace; a process
 *    outside it is neither listed nor found.  COMM is the command name of
 *    the process that created the context ("" once it has exited).
 *  - GET_PROCESS dump takes an optional NTMEM_A_PID: only that process.
 *    Without one, PID is required (EINVAL); no context for it: ENOENT.
 *  - GET_REGIONS: no such process: ESRCH; a process without ntmem
 *    reservations gives an empty dump.  The access check is ptrace's
 *    PTRACE_MODE_READ_FSCREDS rule (same process, or same uid/gid, or
 *    CAP_SYS_PTRACE; dumpable), without the LSM hook, which modules cannot
 *    call.  The pid is resolved and checked when the dump starts: these
 *    errors come as NLMSG_ERROR; kernels before 6.2 cannot attach an
 *    extended-ack message to them.
 *  - An unknown command fails with EOPNOTSUPP (from the genetlink core).
 *  - EVENT goes to listeners in every network namespace, with the PID as
 *    the initial pid namespace numbers it.  Events are rate-limited (a
 *    burst of 32 a second); one that cannot be sent is dropped.
 */
#ifndef _UAPI_LINUX_NTMEM_NETLINK_H
#define _UAPI_LINUX_NTMEM_NETLINK_H

#define NTMEM_GENL_NAME		"ntmem"
#define NTMEM_GENL_VERSION	1
#define NTMEM_GENL_MCGRP_EVENTS	"events"

enum ntmem_genl_cmd {
	NTMEM_CMD_UNSPEC,
	NTMEM_CMD_GET_STATS,
	NTMEM_CMD_GET_PROCESS,
	NTMEM_CMD_GET_REGIONS,
	NTMEM_CMD_SET_LIMIT,
	NTMEM_CMD_EVENT,
	__NTMEM_CMD_MAX,
};
#define NTMEM_CMD_MAX		(__NTMEM_CMD_MAX - 1)

enum ntmem_genl_attr {
	NTMEM_A_UNSPEC,
	NTMEM_A_PAD,
	NTMEM_A_PID,			/* u32 */
	NTMEM_A_COMM,			/* string */
	NTMEM_A_RESERVATIONS,		/* u64: reservations */
	NTMEM_A_COMMITTED,		/* u64: bytes committed (the charge) */
	NTMEM_A_RESIDENT,		/* u64: bytes with memory */
	NTMEM_A_RESET,			/* u64: bytes reset (may be dropped) */
	NTMEM_A_LOCKED,			/* u64: bytes locked */
	NTMEM_A_COMMIT_LIMIT,		/* u64: the global commit limit */
	NTMEM_A_COMMIT_PEAK,		/* u64: highest global commit since load */
	NTMEM_A_FAULTS,			/* u64: faults that mapped a page */
	NTMEM_A_DROPPED,		/* u64: bytes of reset pages dropped */
	NTMEM_A_CONTEXTS,		/* u64: address spaces using ntmem */
	NTMEM_A_LIMIT,			/* u64: a limit, in bytes */
	NTMEM_A_REGION_BASE,		/* u64 */
	NTMEM_A_REGION_SIZE,		/* u64 */
	NTMEM_A_ALLOC_BASE,		/* u64 */
	NTMEM_A_ALLOC_SIZE,		/* u64 */
	NTMEM_A_ALLOC_PROTECT,		/* u32: NTMEM_PAGE_* */
	NTMEM_A_STATE,			/* u32: NTMEM_STATE_COMMIT or _RESERVE */
	NTMEM_A_PROTECT,		/* u32: NTMEM_PAGE_* */
	NTMEM_A_REGION_FLAGS,		/* u32: NTMEM_REGION_* */
	NTMEM_A_EVENT,			/* u32: enum ntmem_event */
	NTMEM_A_REQUESTED,		/* u64: bytes a failed commit asked for */
	NTMEM_A_LIMIT_RAM,		/* u64: the automatic limit's RAM, */
	NTMEM_A_LIMIT_SWAP,		/* u64: plus its swap, */
	NTMEM_A_LIMIT_RESERVE,		/* u64: less its reserve */
	NTMEM_A_TYPE,			/* u32: NTMEM_TYPE_* */
	NTMEM_A_SECTION_OFFSET,		/* u64: a view's offset in its section */
	NTMEM_A_SECTION_SIZE,		/* u64: its section's size */
	NTMEM_A_SECTION_NAME,		/* string: its section's name */
	__NTMEM_A_MAX,
};
#define NTMEM_A_MAX		(__NTMEM_A_MAX - 1)

/* NTMEM_A_REGION_FLAGS */
#define NTMEM_REGION_WRITE_WATCH	(1U << 0)	/* a write-watch reservation */
#define NTMEM_REGION_COPY	(1U << 1)	/* a copy-on-write view */
#define NTMEM_REGION_FILE	(1U << 2)	/* a view of a file section */
#define NTMEM_REGION_FROM_PLACEHOLDER (1U << 3)	/* made over a placeholder */

enum ntmem_event {
	NTMEM_EVENT_COMMIT_LIMIT = 1,	/* the global commit limit */
	NTMEM_EVENT_PROCESS_LIMIT = 2,	/* the process's own limit */
	NTMEM_EVENT_USER_LIMIT = 3,	/* the user's share of the global limit */
};

#endif /* _UAPI_LINUX_NTMEM_NETLINK_H */
