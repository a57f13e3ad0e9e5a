// SPDX-License-Identifier: GPL-2.0
#include "fuzz.h"
int chaos_run(const struct fz_opts *o) { (void)o; return 4; }
