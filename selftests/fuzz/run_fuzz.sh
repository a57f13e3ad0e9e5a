#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The bounded fuzz run of `make check`: the model-based fuzzer through the
# raw ioctls and through the Win32 API, with the known defects expected
# (--known: fuzz.h's KNOWN_ALL), then a chaos run, and systematic
# allocation failures where the kernel injects them (--fail-nth; a skip
# elsewhere).  The model runs take a fixed seed and a fixed number of ops,
# so a check repeats (and a failure replays); `make fuzz` draws new seeds.
# Override with FUZZ_SEED, FUZZ_OPS, and FUZZ_SECONDS for chaos.
cd "$(dirname "$0")" || exit 1
bin=./fuzz/fuzz
[ -x "$bin" ] || bin=./fuzz	# added on its own: the binary itself
# Chaos races 8 threads' ioctls and faults; on a kernel with lockdep (the
# debug one) it runs a minute, so that lockdep sees the locking at length.
chaos_default=10
[ -e /proc/lockdep ] && chaos_default=120
s=${FUZZ_SECONDS:-$chaos_default}
seed=${FUZZ_SEED:-1}
ops=${FUZZ_OPS:-10000}
rc=0
echo "TAP version 13"
echo "1..4"
n=0
for args in "--ioctl" "--win32" "--chaos --threads 8" "--fail-nth"; do
	n=$((n + 1))
	bound="--ops $ops --seconds 0"
	case $args in --chaos*) bound="--seconds $(( (s + 1) / 2 ))" ;; esac
	$bin --known $args $bound --seed "$seed" \
		> "${TMPDIR:-/tmp}/run_fuzz.$$" 2>&1
	r=$?
	sed 's/^/# /' "${TMPDIR:-/tmp}/run_fuzz.$$"
	if [ $r = 0 ]; then
		echo "ok $n fuzz $args"
	elif [ $r = 4 ]; then
		echo "ok $n fuzz $args # SKIP"
	else
		echo "not ok $n fuzz $args"
		rc=1
	fi
done
rm -f "${TMPDIR:-/tmp}/run_fuzz.$$"
exit $rc
