// SPDX-License-Identifier: GPL-2.0
/*
 * The module loads on demand, through the kernel's own request_module()
 * and a real modprobe (kmod, copied from the host next to this test):
 * depmod turns the module's aliases into a static /dev/ntmem node
 * (modules.devname, as for /dev/fuse), opening that node with the module
 * unloaded loads it ("char-major-10-246"), and so does resolving the
 * generic netlink family "ntmem" ("net-pf-16-proto-16-family-ntmem").
 *
 * The tests unload the module and leave it loaded again when they pass;
 * they run last in the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include <uapi/ntmem_netlink.h>

#define MISC_MAJOR_NR	10
#define NTMEM_MINOR	246
#define MODULE_KO	"/lib/ntmem.ko"	/* where tools/vm/run puts it */
#define TOOLS		"/tmp/ntmem-kmod"	/* modprobe and depmod links */
#define MODPROBE_SYSCTL	"/proc/sys/kernel/modprobe"

static char kmod[PATH_MAX];

static bool module_loaded(void)
{
	return access("/sys/module/ntmem", F_OK) == 0;
}

static int unload(void)
{
	int i;

	/* the previous test's processes may still be letting go */
	for (i = 0; i < 50; i++) {
		if (!syscall(SYS_delete_module, "ntmem", O_NONBLOCK))
			return 0;
		if (errno == ENOENT)
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * The module in /lib/modules/RELEASE with depmod's indexes, and the kernel
 * pointed at kmod's modprobe: what a module package and a distribution
 * provide.  0, or a reason to skip.
 */
static const char *setup(char *release, size_t len)
{
	char exe[PATH_MAX], cmd[4 * PATH_MAX];
	struct utsname u;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return "no /proc/self/exe";
	exe[n] = '\0';
	snprintf(kmod, sizeof(kmod), "%s/kmod", dirname(exe));
	if (access(kmod, X_OK))
		return "no kmod next to the test (install kmod on the host)";
	if (access(MODULE_KO, R_OK))
		return "no " MODULE_KO;
	uname(&u);
	snprintf(release, len, "%s", u.release);
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p %s /lib/modules/%s/updates; "
		 "ln -sf %s %s/modprobe; ln -sf %s %s/depmod; "
		 "cp %s /lib/modules/%s/updates/ntmem.ko; cd /lib/modules/%s; "
		 "touch modules.order modules.builtin modules.builtin.modinfo; "
		 "%s/depmod %s",
		 TOOLS, release, kmod, TOOLS, kmod, TOOLS, MODULE_KO, release,
		 release, TOOLS, release);
	if (run(cmd))
		return "depmod failed";
	if (write_file(MODPROBE_SYSCTL, TOOLS "/modprobe\n"))
		return "cannot set " MODPROBE_SYSCTL;
	return NULL;
}

/* depmod's files say what the package's static node will be. */
TEST(devname_alias_gives_a_static_node)
{
	char release[128], path[PATH_MAX + 128], line[256];
	const char *why = setup(release, sizeof(release));
	char out[4096] = "";
	bool found = false;
	FILE *f;

	if (why)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.devname", release);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("no %s", path);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "ntmem ntmem c10:246\n"))
			found = true;
	fclose(f);
	ASSERT_TRUE(found) TH_LOG("modules.devname has no 'ntmem ntmem c10:246'");

	/* systemd's kmod-static-nodes.service creates nodes from this */
	snprintf(path, sizeof(path), "%s static-nodes --format=tmpfiles "
		 "--output=/tmp/static-nodes.conf", kmod);
	ASSERT_EQ(0, run(path));
	f = fopen("/tmp/static-nodes.conf", "r");
	ASSERT_NE(NULL, f);
	found = false;
	while (fgets(line, sizeof(line), f)) {
		strncat(out, line, sizeof(out) - strlen(out) - 1);
		if (strstr(line, " /dev/ntmem ") && strstr(line, " 10:246"))
			found = true;
	}
	fclose(f);
	ASSERT_TRUE(found) TH_LOG("kmod static-nodes lists no /dev/ntmem 10:246:\n%s",
				  out);
}

/* Opening the node of an unloaded module loads it. */
TEST(open_loads_the_module)
{
	char release[128];
	const char *why = setup(release, sizeof(release));
	struct ntmem_version v;
	struct stat st;
	int fd;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, stat("/dev/ntmem", &st));
	ASSERT_EQ(makedev(MISC_MAJOR_NR, NTMEM_MINOR), st.st_rdev)
		TH_LOG("/dev/ntmem is %u:%u, not the fixed 10:246",
		       major(st.st_rdev), minor(st.st_rdev));
	ASSERT_EQ(0, unload()) TH_LOG("rmmod ntmem: %s", strerror(errno));
	ASSERT_FALSE(module_loaded());

	/* what kmod-static-nodes does at boot (devtmpfs removed the node) */
	unlink("/dev/ntmem");
	ASSERT_EQ(0, mknod("/dev/ntmem", S_IFCHR | 0666,
			   makedev(MISC_MAJOR_NR, NTMEM_MINOR)));
	/* and the udev rule, once the module is there */
	ASSERT_EQ(0, chmod("/dev/ntmem", 0666));
	fd = open("/dev/ntmem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open with the module unloaded: %s",
				strerror(errno));
	EXPECT_TRUE(module_loaded());
	EXPECT_EQ(0, ntmem_version(fd, &v));
	EXPECT_EQ(NTMEM_API_MAJOR, v.major);
	close(fd);
}

/* Resolving the generic netlink family of an unloaded module loads it. */
TEST(netlink_family_loads_the_module)
{
	char release[128];
	const char *why = setup(release, sizeof(release));
	struct nl_sock *sk;
	int family;

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, unload()) TH_LOG("rmmod ntmem: %s", strerror(errno));
	ASSERT_FALSE(module_loaded());

	sk = nl_socket_alloc();
	ASSERT_NE(NULL, sk);
	ASSERT_EQ(0, genl_connect(sk));
	family = genl_ctrl_resolve(sk, NTMEM_GENL_NAME);
	nl_socket_free(sk);
	ASSERT_LT(0, family) TH_LOG("family '%s' not resolved: %s",
				    NTMEM_GENL_NAME, nl_geterror(family));
	ASSERT_TRUE(module_loaded());
}

TEST_HARNESS_MAIN
