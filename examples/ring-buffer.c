// SPDX-License-Identifier: GPL-2.0
/*
 * The ring buffer of Microsoft's VirtualAlloc2 documentation, unchanged
 * Windows code on libntmem: one placeholder twice the buffer's size is
 * split in two, and the same pagefile-backed section is mapped into both
 * halves, so a record that runs past the end of the buffer reads on at
 * its start, with no copy and no wrap-around logic.
 */
#include <stdio.h>
#include <string.h>
#include <ntmem/windows.h>

static void *create_ring_buffer(size_t size, void **second)
{
	void *placeholder1, *placeholder2, *view1, *view2;
	HANDLE section;

	/* reserve a placeholder for both halves, then split it */
	placeholder1 = VirtualAlloc2(NULL, NULL, 2 * size,
				     MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
				     PAGE_NOACCESS, NULL, 0);
	if (!placeholder1)
		return NULL;
	if (!VirtualFree(placeholder1, size,
			 MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER))
		return NULL;
	placeholder2 = (char *)placeholder1 + size;

	section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
				     0, (DWORD)size, NULL);
	if (!section)
		return NULL;
	view1 = MapViewOfFile3(section, NULL, placeholder1, 0, size,
			       MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0);
	view2 = MapViewOfFile3(section, NULL, placeholder2, 0, size,
			       MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0);
	/* the views hold the section: its handle is no longer needed */
	CloseHandle(section);
	if (!view1 || !view2)
		return NULL;
	*second = view2;
	return view1;
}

int main(void)
{
	const size_t size = 64 * 1024;
	MEMORY_BASIC_INFORMATION m;
	void *second = NULL;
	char *ring = create_ring_buffer(size, &second);
	char out[32] = "";

	if (!ring) {
		fprintf(stderr, "ring buffer: error %lu\n",
			(unsigned long)GetLastError());
		return 1;
	}
	printf("ring buffer of %zu KiB at %p, mapped again at %p\n",
	       size / 1024, (void *)ring, second);
	/* a record written across the end of the buffer */
	memcpy(ring + size - 6, "wraps around", 12);
	memcpy(out, ring, 6);
	printf("written at offset %zu: \"wraps around\"; the buffer's first bytes now read \"%s\"\n",
	       size - 6, out);
	VirtualQuery(ring, &m, sizeof(m));
	printf("VirtualQuery: Type %s, RegionSize %zu KiB\n",
	       m.Type == MEM_MAPPED ? "MEM_MAPPED" : "?",
	       (size_t)m.RegionSize / 1024);
	UnmapViewOfFileEx(ring, MEM_PRESERVE_PLACEHOLDER);
	UnmapViewOfFileEx(second, MEM_PRESERVE_PLACEHOLDER);
	VirtualFree(ring, 2 * size, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS);
	VirtualFree(ring, 0, MEM_RELEASE);
	return strcmp(out, "around") != 0;
}
