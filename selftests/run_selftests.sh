#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the ntmem selftests (all, or those named as arguments) one binary
# after the other, pass their TAP output through, and exit non-zero if any
# of them failed.  POSIX sh: the test VM only has busybox.

cd "$(dirname "$0")" || exit 1
tests="@TESTS@"
[ $# -gt 0 ] && tests="$*"

tmp=${TMPDIR:-/tmp}
mkdir -p "$tmp" 2>/dev/null
log="$tmp/ntmem-selftest.$$"
failed=

for t in $tests; do
	echo "# selftest: $t"
	if [ ! -x "./$t" ]; then
		echo "not ok - $t: no such test binary"
		failed="$failed $t"
		continue
	fi
	{ "./$t" 2>&1; echo $? > "$log.rc"; } | tee "$log"
	rc=$(cat "$log.rc" 2>/dev/null)
	# 0: every test passed or was skipped; 4: the whole binary skipped.
	if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
		failed="$failed $t"
		# A binary that died before reporting must still count.
		grep -q '^not ok' "$log" ||
			echo "not ok - $t: exited with status $rc"
	fi
done
rm -f "$log" "$log.rc"

if [ -n "$failed" ]; then
	echo "# run_selftests: FAILED:$failed"
	exit 1
fi
echo "# run_selftests: all passed"
exit 0
