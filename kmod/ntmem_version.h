/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place the ntmem release version is written: MODULE_VERSION()
 * and the load message use it, and the top-level Makefile reads it for
 * DKMS and packaging.
 */
#ifndef _NTMEM_VERSION_H
#define _NTMEM_VERSION_H

#define NTMEM_VERSION "0.1.0"

#endif
