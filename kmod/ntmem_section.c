// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: sections, Windows' file-mapping objects backed by the pagefile.
 *
 * A section is a shmem file of the store's mount (ntmem_store_section())
 * that views map (ntmem_view.c), held by section descriptors -- anon files
 * that each carry their own access -- and by the views.  Its commit charge
 * is taken once, from the context of the process that created it: all of
 * it at creation (SEC_COMMIT), or page by page as views commit its pages
 * (SEC_RESERVE, @committed), and it is given back when the section ends.
 *
 * A name puts the section in the namespace of its creator's effective uid
 * in its user namespace, where SECTION_CREATE and SECTION_OPEN of the same
 * uid find it; the entry goes with the section's last descriptor, as a
 * Windows name goes with its last handle (views do not hold it).  The
 * count of descriptors and the table are under ntmem_section_names_lock,
 * which the last put takes too (kref_put_mutex()).
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/user_namespace.h>

#include "ntmem.h"
#include "ntmem_section.h"

/* The named sections; ntmem_section_names_lock protects it and the names. */
static DEFINE_HASHTABLE(ntmem_section_names, 8);
static DEFINE_MUTEX(ntmem_section_names_lock);

/* What one descriptor of a section holds. */
struct ntmem_section_handle {
	struct ntmem_section_object *section;	/* reference held */
	u32 access;			/* NTMEM_FILE_MAP_* (invariant) */
};

static void ntmem_section_free(struct ntmem_section_object *s)
{
	if (s->charged)
		ntmem_uncharge(s->owner, s->charged);
	mtree_destroy(&s->committed);
	ntmem_mm_put(s->owner);
	fput(s->memory);
	if (s->ns)
		put_user_ns(s->ns);
	kfree(s->name);
	kfree(s);
}

static void ntmem_section_release(struct kref *kref)
	__releases(&ntmem_section_names_lock)
{
	struct ntmem_section_object *s = container_of(kref, struct ntmem_section_object, kref);

	if (!hlist_unhashed(&s->name_node))
		hash_del(&s->name_node);
	mutex_unlock(&ntmem_section_names_lock);
	ntmem_section_free(s);
}

/* A descriptor of @s goes: with the last, so does its name. */
static void ntmem_section_handle_put(struct ntmem_section_object *s)
{
	mutex_lock(&ntmem_section_names_lock);
	if (!--s->handles && !hlist_unhashed(&s->name_node))
		hash_del(&s->name_node);
	mutex_unlock(&ntmem_section_names_lock);
	ntmem_section_put(s);
}

/*
 * May run under mmap_lock (a view's ->close): the names' lock is taken
 * under it, and nothing that takes mmap_lock runs under the names' lock.
 */
void ntmem_section_put(struct ntmem_section_object *s)
{
	kref_put_mutex(&s->kref, ntmem_section_release,
		       &ntmem_section_names_lock);
}

void ntmem_section_get(struct ntmem_section_object *s)
{
	kref_get(&s->kref);
}

struct address_space *ntmem_section_mapping(struct ntmem_section_object *s)
{
	return s->memory->f_mapping;
}

/*
 * Section page @idx, referenced, read from swap or the file if need be;
 * NULL for a page that holds only zeros (never written, or past the end
 * of the file), or an ERR_PTR.
 */
struct page *ntmem_section_read_page(struct ntmem_section_object *s,
				     pgoff_t idx)
{
	struct address_space *mapping = ntmem_section_mapping(s);

	if (s->file_backed &&
	    idx >= DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE))
		return NULL;
	if (s->file_backed && !ntmem_store_is_shmem(s->memory))
		return read_cache_page(mapping, idx, NULL, s->memory);
	/* shmem: a hole reads as zeros; a page in swap is in i_pages too */
	if (!xa_load(&mapping->i_pages, idx))
		return NULL;
	return shmem_read_mapping_page_gfp(mapping, idx,
					   mapping_gfp_mask(mapping));
}

/* A section's protection: Windows accepts these for CreateFileMapping. */
static bool ntmem_section_protect_valid(u32 protect)
{
	switch (protect) {
	case NTMEM_PAGE_READONLY:
	case NTMEM_PAGE_READWRITE:
	case NTMEM_PAGE_WRITECOPY:
	case NTMEM_PAGE_EXECUTE_READ:
	case NTMEM_PAGE_EXECUTE_READWRITE:
	case NTMEM_PAGE_EXECUTE_WRITECOPY:
		return true;
	default:
		return false;
	}
}

static u32 ntmem_section_hash(const char *name, u32 len, kuid_t uid)
{
	return jhash(name, len, from_kuid(&init_user_ns, uid));
}

/*
 * The section named @name of the caller's uid, referenced, counting the
 * descriptor the caller will make of it; names' lock.
 */
static struct ntmem_section_object *ntmem_section_lookup(const char *name, u32 len)
{
	struct user_namespace *ns = current_user_ns();
	kuid_t uid = current_euid();
	struct ntmem_section_object *s;

	lockdep_assert_held(&ntmem_section_names_lock);
	hash_for_each_possible(ntmem_section_names, s, name_node,
			       ntmem_section_hash(name, len, uid)) {
		if (s->ns == ns && uid_eq(s->uid, uid) && s->name_len == len &&
		    !memcmp(s->name, name, len)) {
			kref_get(&s->kref);
			s->handles++;
			return s;
		}
	}
	return NULL;
}

static int ntmem_section_release_fd(struct inode *inode, struct file *file)
{
	struct ntmem_section_handle *h = file->private_data;

	ntmem_section_handle_put(h->section);
	kfree(h);
	return 0;
}

static const struct file_operations ntmem_section_fops = {
	.owner		= THIS_MODULE,
	.release	= ntmem_section_release_fd,
	.llseek		= noop_llseek,
};

/*
 * A new descriptor file of @s with @access, or an ERR_PTR; takes the
 * caller's reference, and its count in @s->handles, either way.
 */
static struct file *ntmem_section_file(struct ntmem_section_object *s,
				       u32 access)
{
	struct ntmem_section_handle *h;
	struct file *file;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h) {
		ntmem_section_handle_put(s);
		return ERR_PTR(-ENOMEM);
	}
	h->section = s;
	h->access = access;
	file = anon_inode_getfile("[ntmem-section]", &ntmem_section_fops, h,
				  O_RDWR);
	if (IS_ERR(file)) {
		kfree(h);
		ntmem_section_handle_put(s);
	}
	return file;
}

/*
 * The section of descriptor @fd and the descriptor's access, referenced;
 * ERR_PTR(-EBADF) if @fd is not a section descriptor.
 */
struct ntmem_section_object *ntmem_section_from_fd(int fd, u32 *access)
{
	struct ntmem_section_handle *h;
	struct ntmem_section_object *s;
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &ntmem_section_fops) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	h = file->private_data;
	s = h->section;
	*access = h->access;
	kref_get(&s->kref);
	fput(file);
	return s;
}

/*
 * A file section's file: what mmap() would ask of it for the protection
 * (a regular file, open for reading -- and writing for a writable
 * protection, then not append-only --, not on a noexec mount for an
 * execute protection), and the section's size: the file's for
 * @a->max_size 0, else @a->max_size, to which a writable section grows
 * the file.  The LSM's mmap hook is asked at each view (ntmem_view.c).
 */
static int ntmem_section_file_check(struct ntmem_section_args *a)
{
	struct file *f = a->file;
	struct inode *inode = file_inode(f);
	bool writable = a->protect == NTMEM_PAGE_READWRITE ||
			a->protect == NTMEM_PAGE_EXECUTE_READWRITE;
	const struct path *path = &f->f_path;
	loff_t isize = i_size_read(inode);
	bool mappable = f->f_op->mmap;

#ifdef NTMEM_HAVE_MMAP_PREPARE
	mappable |= !!f->f_op->mmap_prepare;
#endif
	/* a copy-on-write view reads its pages: page cache or shmem's */
	if (!S_ISREG(inode->i_mode) || IS_DAX(inode) || !mappable ||
	    (!f->f_mapping->a_ops->read_folio && !ntmem_store_is_shmem(f)))
		return -EBADF;
	if (!(f->f_mode & FMODE_READ))
		return -EACCES;
	if (writable && (!(f->f_mode & FMODE_WRITE) || IS_APPEND(inode)))
		return -EACCES;
	/* path_noexec(), which is not exported */
	if (ntmem_prot_executable(a->protect) &&
	    ((path->mnt->mnt_flags & MNT_NOEXEC) ||
	     (path->mnt->mnt_sb->s_iflags & SB_I_NOEXEC)))
		return -EACCES;
	if (!a->max_size) {
		if (!isize)
			return -ENODATA;
		a->max_size = isize;
	}
	if (a->max_size <= isize)
		return 0;
	if (!writable)
		return -EFBIG;
	return vfs_truncate(path, a->max_size);
}

static struct ntmem_section_object *
ntmem_section_alloc(struct ntmem_mm *nm, struct ntmem_section_args *a)
{
	unsigned long pages;
	struct ntmem_section_object *s;
	int err;

	if (a->file) {
		err = ntmem_section_file_check(a);
		if (err)
			return ERR_PTR(err);
	}
	pages = DIV_ROUND_UP(a->max_size, PAGE_SIZE);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	kref_init(&s->kref);
	mutex_init(&s->lock);
	mt_init(&s->committed);
	INIT_LIST_HEAD(&s->views);
	s->size = a->max_size;
	s->pages = pages;
	s->protect = a->protect;
	s->attrs = a->attrs;
	if (a->file) {
		/* the file backs it: nothing to charge, nothing to reserve */
		s->attrs = NTMEM_SEC_COMMIT;
		s->file_backed = true;
		s->memory = get_file(a->file);
		kref_get(&nm->kref);
		s->owner = nm;
		return s;
	}
	s->memory = ntmem_store_section((loff_t)pages << PAGE_SHIFT);
	if (IS_ERR(s->memory)) {
		err = PTR_ERR(s->memory);
		kfree(s);
		return ERR_PTR(err);
	}
	if (s->attrs == NTMEM_SEC_COMMIT) {
		err = ntmem_charge(nm, pages);
		if (err) {
			fput(s->memory);
			kfree(s);
			return ERR_PTR(err);
		}
		s->charged = pages;
	}
	kref_get(&nm->kref);
	s->owner = nm;
	return s;
}

/*
 * SECTION_CREATE: a new section, or with a name already taken by the
 * caller's uid, that one (@a->existed).  @a->name was copied in
 * already.  Returns the new descriptor's file.
 */
struct file *ntmem_section_create(struct ntmem_mm *nm,
				  struct ntmem_section_args *a)
{
	u32 access = a->access ? a->access : NTMEM_FILE_MAP_ALL_ACCESS;
	struct ntmem_section_object *s, *found;

	if ((!a->max_size && !a->file) || a->max_size > NTMEM_MAX_ADDRESS ||
	    !ntmem_section_protect_valid(a->protect) ||
	    (a->attrs != NTMEM_SEC_COMMIT && a->attrs != NTMEM_SEC_RESERVE))
		return ERR_PTR(-EINVAL);
	a->existed = false;
	/* allocated outside the names' lock; dropped if the name is taken */
	s = ntmem_section_alloc(nm, a);
	if (IS_ERR(s))
		return ERR_CAST(s);
	s->handles = 1;
	if (!a->name)
		return ntmem_section_file(s, access);
	mutex_lock(&ntmem_section_names_lock);
	found = ntmem_section_lookup(a->name, a->name_len);
	if (!found) {
		s->name = a->name;
		s->name_len = a->name_len;
		a->name = NULL;
		s->ns = get_user_ns(current_user_ns());
		s->uid = current_euid();
		hash_add(ntmem_section_names, &s->name_node,
			 ntmem_section_hash(s->name, s->name_len, s->uid));
	}
	mutex_unlock(&ntmem_section_names_lock);
	if (found) {
		/* never visible: its count goes with it */
		ntmem_section_put(s);
		s = found;
		a->existed = true;
	}
	a->max_size = s->size;
	a->protect = s->protect;
	a->attrs = s->attrs;
	return ntmem_section_file(s, access);
}

/* SECTION_OPEN: the caller's uid's section @a->name, with @a->access. */
struct file *ntmem_section_open(struct ntmem_section_args *a)
{
	struct ntmem_section_object *s;

	mutex_lock(&ntmem_section_names_lock);
	s = ntmem_section_lookup(a->name, a->name_len);
	mutex_unlock(&ntmem_section_names_lock);
	if (!s)
		return ERR_PTR(-ENOENT);
	a->max_size = s->size;
	a->protect = s->protect;
	a->attrs = s->attrs;
	return ntmem_section_file(s, a->access);
}

/*
 * The page protection a view with @access gets, or 0 if the section's
 * protection does not allow that access (EACCES).
 */
u32 ntmem_section_view_protect(struct ntmem_section_object *s, u32 access)
{
	bool exec = access & NTMEM_FILE_MAP_EXECUTE;
	u32 sp = s->protect;

	if (exec && !ntmem_prot_executable(sp))
		return 0;
	if (access & NTMEM_FILE_MAP_WRITE) {
		if (sp != NTMEM_PAGE_READWRITE &&
		    sp != NTMEM_PAGE_EXECUTE_READWRITE)
			return 0;
		return exec ? NTMEM_PAGE_EXECUTE_READWRITE :
			      NTMEM_PAGE_READWRITE;
	}
	if (access & NTMEM_FILE_MAP_COPY)
		return exec ? NTMEM_PAGE_EXECUTE_WRITECOPY :
			      NTMEM_PAGE_WRITECOPY;
	return exec ? NTMEM_PAGE_EXECUTE_READ : NTMEM_PAGE_READONLY;
}

/*
 * Whether a descriptor with @have may map a view with @want, as Windows
 * decides: a write view needs write, a read or copy-on-write view read,
 * and execute needs execute.
 */
bool ntmem_section_access_allows(u32 have, u32 want)
{
	if ((want & NTMEM_FILE_MAP_EXECUTE) &&
	    !(have & (NTMEM_FILE_MAP_EXECUTE | NTMEM_SECTION_MAP_EXECUTE)))
		return false;
	if (want & NTMEM_FILE_MAP_WRITE)
		return have & NTMEM_FILE_MAP_WRITE;
	return have & NTMEM_FILE_MAP_READ;
}

/*
 * The first run of committed pages of @s in [from, last] (section page
 * indices), in [*a, *b]; false if none.  Caller holds s->lock, so nothing
 * changes the tree meanwhile.
 */
bool ntmem_section_next_run(struct ntmem_section_object *s, pgoff_t from,
			    pgoff_t last, pgoff_t *a, pgoff_t *b)
{
	MA_STATE(mas, &s->committed, from, from);
	bool found = false;

	lockdep_assert_held(&s->lock);
	if (from > last)
		return false;
	if (s->attrs == NTMEM_SEC_COMMIT) {
		*a = from;
		*b = last;
		return true;
	}
	rcu_read_lock();
	if (mas_find(&mas, last)) {
		*a = max_t(pgoff_t, mas.index, from);
		*b = min_t(pgoff_t, mas.last, last);
		found = true;
	}
	rcu_read_unlock();
	return found;
}
