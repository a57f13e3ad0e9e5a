// SPDX-License-Identifier: GPL-2.0
/* placeholder, replaced below */
#include "fuzz.h"
int failnth_run(const struct fz_opts *o) { (void)o; return 4; }
