# SPDX-License-Identifier: GPL-2.0
# The model-based fuzzer (selftests/fuzz/), included by selftests/Makefile:
# $(O)/fuzz/fuzz, static, linked with ntmem_util.o and libntmem.a, and
# $(O)/run_fuzz, the bounded run that run_selftests runs.
FUZZ_SRCS := $(wildcard $(SRC)/fuzz/*.c)
FUZZ_BIN := $(O)/fuzz/fuzz

$(FUZZ_BIN): $(FUZZ_SRCS) $(SRC)/fuzz/fuzz.h $(O)/ntmem_util.o $(LIBNTMEM) $(DEPS)
	@mkdir -p $(O)/fuzz
	$(CC) $(ST_CFLAGS) -o $@ $(FUZZ_SRCS) $(O)/ntmem_util.o $(LIBNTMEM)

$(O)/run_fuzz: $(SRC)/fuzz/run_fuzz.sh | $(O)
	cp $< $@ && chmod 755 $@
