# ntmem top-level Makefile.  The module's own build description is
# kmod/Kbuild; this file wraps it for the running kernel (all, install),
# for the test VM's kernels (modules KERNEL=...), for DKMS, and drives the
# userspace parts and the checks.  `make help` lists the targets.

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# O=DIR: every build product under DIR instead of build/.  Each part's own
# Makefile gets its own O= below DIR.
BUILD := $(if $(O),$(abspath $(O)),$(TOP)/build)
# ...and O= goes to no sub-make as is: the kernel's make reads it as its
# own output directory.
MAKEOVERRIDES := $(filter-out O=%,$(MAKEOVERRIDES))
CACHE ?= $(or $(NTMEM_CACHE),$(HOME)/.cache/ntmem)
VM := $(TOP)/tools/vm

# The one version, from the header the module uses for MODULE_VERSION.
VERSION := $(shell sed -n 's/^\#define NTMEM_VERSION[[:space:]]*"\(.*\)"/\1/p' \
	$(TOP)/kmod/ntmem_version.h)

# The host's kernel: `all`, `install`, DKMS.
KVER ?= $(shell uname -r)
KERNEL_DIR ?= /lib/modules/$(KVER)/build

# A test-VM kernel from the cache: 6.1, 6.12, latest (trixie-backports'
# newest, 7.3 when written) or debug.
KERNEL ?= 6.1
KERNELS ?= 6.1 6.12 latest debug
W ?=

PREFIX ?= /usr/local
DESTDIR ?=
INCLUDEDIR ?= $(PREFIX)/include
UDEVRULESDIR ?= /etc/udev/rules.d
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d

# The parts' Makefiles, each with its output directory.  CFLAGS, CPPFLAGS
# and LDFLAGS (command line or environment) reach them unchanged.
LIB_O := $(BUILD)/lib
MAKE_LIB = $(MAKE) -C $(TOP)/lib O=$(LIB_O)
MAKE_NTMEMCTL = $(MAKE) -C $(TOP)/tools/ntmemctl O=$(BUILD)/tools

.PHONY: all host-module lib selftests bench-build examples ntmemctl modules \
	kmod-build w1 checkpatch check demo bench bench-alloc bench-concurrency fuzz \
	install install-module \
	install-udev install-modules-load install-headers install-lib \
	install-ntmemctl uninstall dkms-install dkms-uninstall man-lint dist \
	package-check clean help

# What a host needs; the selftests and the benchmark are built by check and
# bench, which run them in the VM (they need the cached kernel sources).
all: host-module lib examples ntmemctl

host-module:
ifeq ($(wildcard $(TOP)/kmod/Kbuild),)
	@echo "module: skipped, kmod/Kbuild does not exist yet"
else ifeq ($(wildcard $(KERNEL_DIR)/Makefile),)
	@echo "module: skipped: $(NO_HEADERS); 'make modules KERNEL=6.1' builds for the test VM"
else
	$(MAKE) -C $(KERNEL_DIR) M=$(TOP)/kmod modules
endif

lib:
	+$(MAKE_LIB)
selftests bench-build examples: lib
selftests:
	$(MAKE) -C $(TOP)/selftests O=$(BUILD)/selftests LIB_O=$(LIB_O)
bench-build:
	$(MAKE) -C $(TOP)/bench O=$(BUILD)/bench LIB_O=$(LIB_O)
examples:
	$(MAKE) -C $(TOP)/examples O=$(BUILD)/examples LIB_O=$(LIB_O)

# ntmemctl needs libnl-genl-3's development files (libnl-genl-3-dev).
HAVE_LIBNL := $(shell pkg-config --exists libnl-genl-3.0 && echo y)
ntmemctl:
ifeq ($(HAVE_LIBNL),y)
	+$(MAKE_NTMEMCTL)
else
	@echo "ntmemctl: skipped, no libnl-genl-3.0 (install libnl-genl-3-dev)"
endif

# ---- the module for a test-VM kernel ------------------------------------
# build/<KERNEL>/kmod holds links to kmod/'s sources and build/<KERNEL>/
# include one to include/, so each kernel builds apart and the Kbuild's
# $(src)/../include still resolves.
NTMEM_OUT ?= $(BUILD)/$(KERNEL)
KMOD_SOURCES = $(filter-out %.mod.c,$(wildcard $(addprefix $(TOP)/kmod/,Kbuild *.c *.h *.S)))

# shell: fetch (or build) the cache's kernel $(1)
fetch = case "$(1)" in \
	6.1|6.12|latest) $(VM)/fetch $(1) ;; \
	debug) $(VM)/build-debug-kernel ;; \
	*) echo "KERNEL must be 6.1, 6.12, latest or debug, not '$(1)'" >&2; exit 1 ;; \
	esac

modules:
	@$(call fetch,$(KERNEL))
	@$(MAKE) --no-print-directory kmod-build
	@echo "module: $(NTMEM_OUT)/ntmem.ko"

kmod-build:
	@test -f $(TOP)/kmod/Kbuild || { echo "kmod/Kbuild does not exist yet" >&2; exit 1; }
	@mkdir -p $(NTMEM_OUT)/kmod
	@find $(NTMEM_OUT)/kmod -maxdepth 1 -xtype l -delete
	@ln -sfr $(KMOD_SOURCES) $(NTMEM_OUT)/kmod/
	@ln -sfnr $(TOP)/include $(NTMEM_OUT)/include
	+$(VM)/kbuild $(KERNEL) M=$(NTMEM_OUT)/kmod W=$(W) modules
	@cp $(NTMEM_OUT)/kmod/ntmem.ko $(NTMEM_OUT)/ntmem.ko

# W=1 from scratch against every Debian kernel; any compiler or modpost
# warning fails.  (The Debian headers' "compiler differs" notice is not
# about our code.)
W1_KERNELS ?= 6.1 6.12 latest
w1:
	@fail=0; for k in $(W1_KERNELS); do \
		$(call fetch,$$k) || exit 1; \
		out=$(BUILD)/$$k/w1; rm -rf $$out; mkdir -p $$out; \
		$(MAKE) --no-print-directory kmod-build KERNEL=$$k NTMEM_OUT=$$out W=1 \
			>$$out/build.log 2>&1; rc=$$?; \
		cat $$out/build.log; \
		if [ $$rc -ne 0 ] || grep -i 'warning:' $$out/build.log | \
			grep -qv 'compiler differs from the one used to build the kernel'; then \
			echo "w1 $$k: FAIL"; fail=1; \
		else echo "w1 $$k: PASS"; fi; \
	done; exit $$fail

CHECKPATCH_FILES = $(filter-out %.mod.c,$(wildcard $(TOP)/kmod/*.c $(TOP)/kmod/*.h)) \
	$(TOP)/include/uapi/ntmem.h
checkpatch:
	@$(VM)/fetch source
	@cd $(TOP) && out=$$($(CACHE)/source/scripts/checkpatch.pl --no-tree --strict \
		--terse --show-types -f $(patsubst $(TOP)/%,%,$(CHECKPATCH_FILES)) 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then printf '%s\n' "$$out"; \
		echo "checkpatch: FAIL"; exit 1; fi; echo "checkpatch: PASS"

# Selftests on each of $(KERNELS), then checkpatch and w1; ends with
# "selftests: N passed, M failed".
check:
	@MAKE="$(MAKE)" KERNELS="$(KERNELS)" NTMEM_BUILD="$(BUILD)" $(VM)/check

demo:
	@$(MAKE) --no-print-directory modules KERNEL=6.1
	@$(MAKE) --no-print-directory examples
	@$(MAKE) --no-print-directory -C $(TOP)/tools/ntmemctl \
		O=$(BUILD)/examples STATIC=1
	$(VM)/run --kernel 6.1 --module $(BUILD)/6.1/ntmem.ko --add $(BUILD)/examples -- \
		sh -c './reservation-demo && echo && ./sparse-table && echo && \
		       ./ring-buffer && echo && ./other-process && echo && \
		       echo "$$ ntmemctl stats" && ./ntmemctl stats'

bench:
	@$(MAKE) --no-print-directory modules KERNEL=6.1
	@$(MAKE) --no-print-directory bench-build
	$(VM)/run --kernel 6.1 --module $(BUILD)/6.1/ntmem.ko --icount --mem 2G \
		--add $(BUILD)/bench -- ./ntmem-bench

# The model-based fuzzer (selftests/fuzz/) in the VM: SECONDS of the model
# run, then half as long in chaos mode; SEED=N replays a seed.  With
# INJECT=1 (the default on the debug kernel, whose config has fault
# injection): the --fail-nth sweep (once: it does not depend on the seed),
# chaos, then SECONDS of the model run with fail-nth armed around a
# fraction INJECT_P of its module calls and accesses; its last line counts
# the injections that fired and the clean failures.  CHAOS_SECONDS
# (default half of SECONDS) bounds the chaos run.
SECONDS ?= 60
SEED ?=
INJECT ?= $(if $(filter debug,$(KERNEL)),1,0)
INJECT_P ?= 0.05
FUZZ_MODEL = ./fuzz --seconds $(SECONDS) $(if $(SEED),--seed $(SEED))
CHAOS_SECONDS ?= $$(( ($(SECONDS) + 1) / 2 ))
FUZZ_CHAOS = ./fuzz --chaos --seconds $(CHAOS_SECONDS) $(if $(SEED),--seed $(SEED))
fuzz:
	@$(MAKE) --no-print-directory modules KERNEL=$(KERNEL)
	@$(MAKE) --no-print-directory selftests
	$(VM)/run --kernel $(KERNEL) --module $(BUILD)/$(KERNEL)/ntmem.ko \
		$(if $(filter debug,$(KERNEL)),--mem 1536M) \
		--timeout $$(( $(SECONDS) * 3 + 600 )) \
		--add $(BUILD)/selftests/fuzz -- sh -c \
		'$(if $(filter 1,$(INJECT)),./fuzz --fail-nth && $(FUZZ_CHAOS) && \
		 $(FUZZ_MODEL) --inject $(INJECT_P),$(FUZZ_MODEL) && \
		 $(FUZZ_CHAOS))'

# Allocators: two vCPUs (two-thread rows), so no --icount: ratios only.
bench-alloc:
	@$(MAKE) --no-print-directory modules KERNEL=6.1
	@$(MAKE) --no-print-directory lib
	@$(VM)/fetch host
	@$(MAKE) --no-print-directory -C $(TOP)/bench alloc O=$(BUILD)/bench LIB_O=$(LIB_O)
	$(VM)/run --kernel 6.1 --module $(BUILD)/6.1/ntmem.ko --add $(BUILD)/bench/alloc -- \
		env GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536 \
		./ld-linux-x86-64.so.2 --library-path . ./alloc-bench

# Faults beside COMMIT/DECOMMIT and PROTECT threads: two vCPUs running at
# once, so no --icount (it would serialise them): ratios only.
bench-concurrency:
	@$(MAKE) --no-print-directory modules KERNEL=$(KERNEL)
	@$(MAKE) --no-print-directory bench-build
	$(VM)/run --kernel $(KERNEL) --module $(BUILD)/$(KERNEL)/ntmem.ko --mem 2G \
		--add $(BUILD)/bench -- ./ntmem-concurrency

# ---- installing on a real host (as root) ----------------------------------
# The module goes to /lib/modules/$(KVER)/updates with a modules-load.d
# entry, the headers to $(INCLUDEDIR)/ntmem (the ABI ones as
# <ntmem/uapi/ntmem.h> and <ntmem/uapi/ntmem_netlink.h>), the udev rule to
# $(UDEVRULESDIR).  DESTDIR is honoured throughout.  Without the kernel's
# headers, install installs everything else and says how to get the module.
NO_HEADERS = no headers for kernel $(KVER) in $(KERNEL_DIR)
GET_MODULE = install linux-headers-$(KVER) and run 'make install-module', or install the ntmem-dkms package (or 'make dkms-install'), which builds it for every kernel

install: install-udev install-headers install-lib install-ntmemctl
ifeq ($(wildcard $(KERNEL_DIR)/Makefile),)
	@echo "module: not installed: $(NO_HEADERS); $(GET_MODULE)"
else
	@$(MAKE) --no-print-directory install-module
endif

# The kernel signs modules at modules_install (CONFIG_MODULE_SIG_ALL) with
# a key that only the kernel's own build tree holds.  Without it, install
# unsigned, skip sign-file (whose SSL error says nothing useful) and say so.
KCONFIG_VAL = $(shell sed -n 's/^$(1)=//p' $(KERNEL_DIR)/.config 2>/dev/null)
SIG_KEY = $(patsubst "%",%,$(call KCONFIG_VAL,CONFIG_MODULE_SIG_KEY))
SIG_KEY_PATH = $(if $(filter /%,$(SIG_KEY)),$(SIG_KEY),$(KERNEL_DIR)/$(SIG_KEY))
CAN_SIGN = $(and $(filter y,$(call KCONFIG_VAL,CONFIG_MODULE_SIG_ALL)),$(SIG_KEY), \
	$(or $(filter pkcs11:%,$(SIG_KEY)),$(and $(wildcard $(SIG_KEY_PATH)), \
	$(wildcard $(KERNEL_DIR)/certs/signing_key.x509))))

install-module:
ifeq ($(wildcard $(KERNEL_DIR)/Makefile),)
	@echo "module: cannot install: $(NO_HEADERS); $(GET_MODULE)" >&2; exit 1
endif
	$(MAKE) -C $(KERNEL_DIR) M=$(TOP)/kmod modules
	$(MAKE) -C $(KERNEL_DIR) M=$(TOP)/kmod INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates $(if $(CAN_SIGN),,CONFIG_MODULE_SIG_ALL=) \
		modules_install
	$(if $(CAN_SIGN),,@echo "module: installed unsigned: no signing key in $(KERNEL_DIR);" \
		"a kernel with Secure Boot refuses it: see 'Secure Boot' in README.md")
	$(if $(DESTDIR),,depmod -a $(KVER))
	@$(MAKE) --no-print-directory install-modules-load

# Loaded at boot by systemd-modules-load; on demand anyway (/dev/ntmem and
# the netlink family are module aliases).
install-modules-load:
	install -D -m 0644 $(TOP)/packaging/modules-load.conf \
		$(DESTDIR)$(MODULESLOADDIR)/ntmem.conf

install-udev:
	install -D -m 0644 $(TOP)/packaging/60-ntmem.rules $(DESTDIR)$(UDEVRULESDIR)/60-ntmem.rules
	$(if $(DESTDIR),,-udevadm control --reload-rules 2>/dev/null)

UAPI_HEADERS = $(TOP)/include/uapi/ntmem.h $(TOP)/include/uapi/ntmem_netlink.h
install-headers:
	install -d $(DESTDIR)$(INCLUDEDIR)/ntmem/uapi
	install -m 0644 $(UAPI_HEADERS) $(DESTDIR)$(INCLUDEDIR)/ntmem/uapi/

install-lib:
	+$(MAKE_LIB) install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	$(MAKE) -C $(TOP)/man install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

install-ntmemctl:
ifeq ($(HAVE_LIBNL),y)
	+$(MAKE_NTMEMCTL) install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
else
	@echo "ntmemctl: not installed: no libnl-genl-3.0 (install libnl-genl-3-dev)"
endif

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/ntmem.ko*
	$(if $(DESTDIR),,-depmod -a $(KVER))
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-ntmem.rules $(DESTDIR)$(MODULESLOADDIR)/ntmem.conf
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ntmem/uapi
	+$(MAKE_LIB) uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	$(MAKE) -C $(TOP)/man uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	+$(MAKE_NTMEMCTL) uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

# DKMS: sources to /usr/src/ntmem-$(VERSION), the udev rule and the
# modules-load.d entry, then dkms add, build, install.  dkms-uninstall
# removes all of it.  The Debian package installs the same files.
DKMS_SRC = $(DESTDIR)/usr/src/ntmem-$(VERSION)
dkms-install: install-udev install-modules-load
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/kmod $(DKMS_SRC)/include
	cp $(KMOD_SOURCES) $(DKMS_SRC)/kmod/
	cp -r $(TOP)/include/uapi $(DKMS_SRC)/include/
	sed 's/#MODULE_VERSION#/$(VERSION)/' $(TOP)/dkms.conf >$(DKMS_SRC)/dkms.conf
	$(if $(DESTDIR),,dkms add ntmem/$(VERSION) && dkms install ntmem/$(VERSION) -k $(KVER))

dkms-uninstall:
	-$(if $(DESTDIR),,dkms remove ntmem/$(VERSION) --all)
	rm -rf $(DKMS_SRC)
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-ntmem.rules $(DESTDIR)$(MODULESLOADDIR)/ntmem.conf
	$(if $(DESTDIR),,-udevadm control --reload-rules 2>/dev/null)

# ---- releases and packages --------------------------------------------------
# ntmem-$(VERSION).tar.xz in $(BUILD)/dist: the tracked files, sorted, owned
# by root, dated from debian/changelog; the same bytes on every run.
dist:
	@$(TOP)/tools/dist $(VERSION) $(BUILD)/dist

# The Debian packages built from that tarball, linted, their contents and
# hardening checked (installs its build dependencies with apt).
package-check:
	@$(TOP)/tools/package-check $(BUILD)/package

# The manual pages (man/man3, man/man7, man/man8) through groff with every
# warning on; any output fails.  Run from man/ so that the .so links resolve.
MAN_PAGES = $(patsubst $(TOP)/man/%,%,$(wildcard $(TOP)/man/man3/*.3 $(TOP)/man/man7/*.7 \
	$(TOP)/man/man8/*.8))
man-lint:
	@cd $(TOP)/man && fail=0; for p in $(MAN_PAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -man -Tutf8 -ww -z $$p 2>&1); \
		if [ -n "$$out" ]; then printf '%s\n' "$$out"; echo "$$p: FAIL"; fail=1; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "man-lint: FAIL"; exit 1; fi; \
	echo "man-lint: PASS ($(words $(MAN_PAGES)) pages)"

# ---- housekeeping ---------------------------------------------------------
clean:
	rm -rf $(BUILD)
	cd $(TOP)/kmod && rm -f *.o *.ko *.mod *.mod.c .*.cmd .*.d modules.order Module.symvers
	rm -rf $(TOP)/kmod/.tmp_versions

help:
	@echo 'ntmem $(VERSION) targets:'
	@echo '  all (default)   module for the running kernel (if its headers exist),'
	@echo '                  lib, examples, ntmemctl (needs libnl-genl-3-dev)'
	@echo '  selftests, bench-build   the test and benchmark programs for the VM'
	@echo '  modules         KERNEL=6.1|6.12|latest|debug: build/$$KERNEL/ntmem.ko for the test VM'
	@echo '  check           selftests in the VM on KERNELS="$(KERNELS)", checkpatch,'
	@echo '                  w1, man-lint'
	@echo '  man-lint        groff warnings over the manual pages'
	@echo '  w1              W=1 builds against 6.1, 6.12 and latest, failing on any warning'
	@echo '  checkpatch      checkpatch --strict on kmod/ and the uapi header'
	@echo '  demo, bench     run the examples and ntmemctl, or the benchmark, in the VM'
	@echo '  bench-alloc     HeapAlloc, midl_user_allocate, RpcSs against glibc, jemalloc, mimalloc'
	@echo '  bench-concurrency  first touch beside COMMIT/DECOMMIT or PROTECT threads,'
	@echo '                  against Linux, 2 vCPUs [KERNEL=6.1]'
	@echo '  fuzz            the model-based fuzzer in the VM [SECONDS=60] [KERNEL=6.1] [SEED=N]'
	@echo '                  [INJECT=1 [INJECT_P=0.05]]: allocation failures (default on KERNEL=debug)'
	@echo '  install, uninstall, dkms-install, dkms-uninstall   (as root; DESTDIR, PREFIX)'
	@echo '  install-module  the module alone (fails without the kernel headers)'
	@echo '  dist            build/dist/ntmem-$(VERSION).tar.xz, reproducible'
	@echo '  package-check   Debian packages from that tarball: build, lintian, contents'
	@echo '  O=DIR           build products under DIR instead of build/;'
	@echo '                  CFLAGS, CPPFLAGS, LDFLAGS reach every binary'
	@echo '  clean'
