# libFuzzer targets (clang only), included by the top Makefile.
#
#   make fuzz-build           build every target into tests/fuzz/out/
#   make fuzz [FUZZ_SECONDS=60]
#                             run each target that long on a copy of its
#                             seed corpus (tests/fuzz/corpus/<target>/);
#                             fails if any target crashed, leaked or hung
#   make fuzz-clean           remove tests/fuzz/out/
#
# One target by hand, e.g. to replay a reproducer:
#   tests/fuzz/out/fuzz_client tests/fuzz/corpus/fuzz_client/<file>
# (FUZZ_SFD_LOG=debug shows the daemon's log for fuzz_client.)

FUZZ_SECONDS  = 60
FUZZ_CC       = clang
FUZZ_OUT      = tests/fuzz/out
FUZZ_TARGETS  = fuzz_frame fuzz_ctl fuzz_parse fuzz_ring fuzz_client fuzz_spool
# Every libFuzzer run gets these; FUZZ_ARGS adds more (-jobs=N, -dict=...).
FUZZ_ARGS     =
FUZZ_RUN_ARGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                -dict=tests/fuzz/sf.dict $(FUZZ_ARGS)

FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
# The harnesses build with the project's warnings as errors; the code under
# test without -Werror, so a new compiler's warning there (the normal
# build's business) does not stop the fuzzing.
FUZZ_CFLAGS   = -std=c11 -g -O1 $(FUZZ_SAN)
FUZZ_WARN_SUT = $(filter-out -Werror,$(WARN))
FUZZ_CPPFLAGS = -D_GNU_SOURCE -DSF_VERSION='"fuzz"' -Ilib -Icmd/sfd \
                -Itests/fuzz

# The code under test: the library and the daemon without its main().
FUZZ_SUT_SRC  = $(LIB_SRC) $(filter-out cmd/sfd/sfd.c,$(SFD_SRC))
FUZZ_SUT_OBJ  = $(FUZZ_SUT_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
FUZZ_LIB      = $(FUZZ_OUT)/libsf-fuzz.a
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_OUT)/%)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_WARN_SUT) \
	    -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_OUT)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) \
	    -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_SUT_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_SUT_OBJ)

$(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB)

# Each target on a fresh copy of its seeds, so what it learns stays in
# tests/fuzz/out/.  The count is from libFuzzer's last line, "Done N runs".
fuzz: fuzz-build
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
	    c=$(FUZZ_OUT)/corpus-$$t; a=$(FUZZ_OUT)/artifacts-$$t; \
	    rm -rf $$c $$a; mkdir -p $$c $$a; \
	    cp tests/fuzz/corpus/$$t/* $$c/; \
	    if $(FUZZ_OUT)/$$t $(FUZZ_RUN_ARGS) \
	        -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$$a/ \
	        $$c >$(FUZZ_OUT)/$$t.log 2>&1; then \
	        sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/'"$$t"': \1 executions in \2 s/p' \
	            $(FUZZ_OUT)/$$t.log; \
	    else \
	        echo "$$t: FAILED, see $(FUZZ_OUT)/$$t.log and $$a/"; \
	        grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed)' \
	            $(FUZZ_OUT)/$$t.log || true; \
	        failed="$$failed $$t"; \
	    fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

fuzz-clean:
	rm -rf $(FUZZ_OUT)

.PHONY: fuzz fuzz-build fuzz-clean

-include $(FUZZ_SUT_OBJ:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_OUT)/obj/tests/fuzz/%.d)
