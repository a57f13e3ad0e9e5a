/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The arena behind the RpcSs package's allocation environments (names
 * ntmem__rpc_arena_*, kept out of the exports as in internal.h): blocks
 * cut in address order from chunks obtained with VirtualAlloc, reused
 * once freed, and given back all at once, one VirtualFree per chunk.
 * Freeing checks the pointer against the arena's own chunks before it
 * reads anything.  rpc_arena.c describes the layout; rpc_ss.c has the
 * environments.
 *
 * Locking: the arena takes no lock; its user serialises every call on
 * one arena (rpc_ss.c: the environment's lock).
 */
#ifndef NTMEM_LIB_RPC_ARENA_H
#define NTMEM_LIB_RPC_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define RPC_ARENA_NSMALL	64	/* exact free lists: 16..1024 bytes */
/* Beyond any address space: refused before sizes can wrap. */
#define RPC_ARENA_MAX_REQUEST	((size_t)1 << 47)

struct chunk;
struct free_block;

struct rpc_arena {
	struct chunk **chunks;		/* sorted by address */
	size_t nchunks, capchunks;
	struct chunk *cur;		/* new blocks are cut from it */
	size_t next_size;		/* of the next shared chunk */
	struct free_block *small[RPC_ARENA_NSMALL];
	struct free_block *medium;
};

/* An empty arena; it holds no memory until the first allocation. */
void ntmem__rpc_arena_init(struct rpc_arena *a);
/* A block of @n bytes (at most RPC_ARENA_MAX_REQUEST), 16-byte aligned;
 * NULL if the memory is not there. */
void *ntmem__rpc_arena_alloc(struct rpc_arena *a, size_t n);
/* Gives @p back if it is a live block of @a; false if it is not. */
bool ntmem__rpc_arena_free(struct rpc_arena *a, void *p);
/* Every block at once: one VirtualFree per chunk.  @a is empty after. */
void ntmem__rpc_arena_destroy(struct rpc_arena *a);
/* Frees the arena's bookkeeping and leaves its chunks alone: for an arena
 * destroyed already, or one a forked child inherited, whose chunks are
 * not in the child.  @a may only be thrown away after. */
void ntmem__rpc_arena_forget(struct rpc_arena *a);

#endif /* NTMEM_LIB_RPC_ARENA_H */
