# streamfan - see README.md.  Plain GNU make; no configure step.
#
#   make            build the four programs
#   make check      unit tests, end-to-end tests, then both again under
#                   AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       a self-contained demonstration
#   make bench      throughput against socat and ncat --broker, the
#                   bridges, and latency against the peers installed
#   make install    PREFIX, MANPREFIX and DESTDIR are honoured

VERSION   = 0.1.0
PREFIX    = /usr/local
MANPREFIX = $(PREFIX)/share/man
BINDIR    = $(PREFIX)/bin

CC       ?= cc
# O is the build directory: objects and programs go under it.  The
# sanitizer build uses O=.asan so both builds can live side by side.
O        ?= .
OPT      ?= -O2 -g
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wvla -Werror
CPPFLAGS += -D_GNU_SOURCE -DSF_VERSION='"$(VERSION)"' -Ilib
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SAN)
LDFLAGS  += $(SAN)

SANFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

LIB_SRC   = lib/addr.c lib/cli.c lib/ctl.c lib/frame.c lib/guard.c lib/io.c \
            lib/num.c lib/proto.c lib/ring.c lib/session.c lib/share.c \
            lib/spool.c
SFD_SRC   = cmd/sfd/sfd.c cmd/sfd/access.c cmd/sfd/admin.c cmd/sfd/client.c \
            cmd/sfd/hello.c cmd/sfd/input.c cmd/sfd/listener.c cmd/sfd/log.c \
            cmd/sfd/cutoff.c cmd/sfd/options.c \
            cmd/sfd/restore.c \
            cmd/sfd/publisher.c cmd/sfd/reader.c cmd/sfd/server.c \
            cmd/sfd/stream.c cmd/sfd/subscriber.c cmd/sfd/systemd.c
SFPIPE_SRC = cmd/sfpipe/sfpipe.c
SFCAT_SRC = cmd/sfcat/sfcat.c cmd/sfcat/options.c cmd/sfcat/shared.c cmd/sfcat/state.c
SFCTL_SRC = cmd/sfctl/sfctl.c
UNIT_SRC  = tests/unit/test_frame.c tests/unit/test_ctl.c \
            tests/unit/test_num.c tests/unit/test_addr.c \
            tests/unit/test_ring.c tests/unit/test_spool.c tests/unit/unit.c

LIB_OBJ   = $(LIB_SRC:%.c=$(O)/%.o)
SFD_OBJ   = $(SFD_SRC:%.c=$(O)/%.o)
SFPIPE_OBJ = $(SFPIPE_SRC:%.c=$(O)/%.o)
SFCAT_OBJ = $(SFCAT_SRC:%.c=$(O)/%.o)
SFCTL_OBJ = $(SFCTL_SRC:%.c=$(O)/%.o)
UNIT_OBJ  = $(UNIT_SRC:%.c=$(O)/%.o)

LIBSF     = $(O)/lib/libsf.a
PROGS     = $(O)/cmd/sfd/sfd $(O)/cmd/sfpipe/sfpipe $(O)/cmd/sfcat/sfcat \
            $(O)/cmd/sfctl/sfctl
UNIT      = $(O)/tests/unit/unit

MAN1      = cmd/sfd/sfd.1 cmd/sfpipe/sfpipe.1 cmd/sfcat/sfcat.1 \
            cmd/sfctl/sfctl.1
MAN7      = cmd/sfd/sf-protocol.7

all: $(PROGS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBSF): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/cmd/sfd/sfd: $(SFD_OBJ) $(LIBSF)
	$(CC) $(LDFLAGS) -o $@ $(SFD_OBJ) $(LIBSF)
$(O)/cmd/sfpipe/sfpipe: $(SFPIPE_OBJ) $(LIBSF)
	$(CC) $(LDFLAGS) -o $@ $(SFPIPE_OBJ) $(LIBSF)
$(O)/cmd/sfcat/sfcat: $(SFCAT_OBJ) $(LIBSF)
	$(CC) $(LDFLAGS) -o $@ $(SFCAT_OBJ) $(LIBSF)
$(O)/cmd/sfctl/sfctl: $(SFCTL_OBJ) $(LIBSF)
	$(CC) $(LDFLAGS) -o $@ $(SFCTL_OBJ) $(LIBSF)
$(UNIT): $(UNIT_OBJ) $(LIBSF)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(LIBSF)

# The sanitizer build: same sources, its own directory.
asan:
	$(MAKE) O=.asan SAN='$(SANFLAGS)' OPT='-O1 -g' all .asan/tests/unit/unit

SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86

unit: $(UNIT)
	$(UNIT)

e2e: all
	SF_BUILD=$(CURDIR)/$(O) bats tests/bats

check: unit e2e asan
	$(SAN_ENV) .asan/tests/unit/unit
	$(SAN_ENV) SF_BUILD=$(CURDIR)/.asan SF_SANITIZED=1 bats tests/bats

demo: all
	sh examples/demo.sh

LATENCY   = $(O)/tests/bench/latency
$(LATENCY): tests/bench/latency.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ tests/bench/latency.c

bench: all $(LATENCY)
	sh tests/bench/bench.sh
	sh tests/bench/bridges.sh
	SF_BUILD=$(CURDIR)/$(O) sh tests/bench/latency.sh

# Static analysis: cppcheck and clang-tidy, configured in the repository.
lint:
	sh tests/lint/lint.sh

# Stress and fault-injection tests: slower, run by CI after make check.
# Preloaded into sfd by the stress tests to make a system call fail.
FAULT     = $(O)/tests/stress/fault.so
$(FAULT): tests/stress/fault.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ tests/stress/fault.c -ldl

stress: all $(FAULT)
	SF_BUILD=$(CURDIR)/$(O) bats tests/stress

# Random clients joining, leaving, stalling for SOAK_SECONDS (not in CI).
SOAK_SECONDS = 600
soak: all
	SF_BUILD=$(CURDIR)/$(O) SOAK_SECONDS=$(SOAK_SECONDS) sh tests/stress/soak.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man7 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	cp -f $(PROGS) $(DESTDIR)$(BINDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/
	for p in sfd sfpipe sfcat sfctl; do \
	    cp -f completions/bash/$$p $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; \
	    cp -f completions/zsh/_$$p $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p; \
	    cp -f completions/fish/$$p.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish; \
	done

uninstall:
	for p in sfd sfpipe sfcat sfctl; do \
	    rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANPREFIX)/man1/$$p.1 \
	        $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p \
	        $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$p \
	        $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$p.fish; \
	done
	rm -f $(DESTDIR)$(MANPREFIX)/man7/sf-protocol.7

clean:
	rm -rf .asan .clang tests/fuzz/out lib/*.o lib/*.d lib/libsf.a cmd/*/*.o cmd/*/*.d \
	    tests/unit/*.o tests/unit/*.d $(PROGS) $(UNIT) $(LATENCY)

# libFuzzer targets: make fuzz FUZZ_SECONDS=N (clang only).
include tests/fuzz/fuzz.mk

.PHONY: all asan unit e2e check demo bench lint stress soak install \
    uninstall clean

-include $(LIB_OBJ:.o=.d) $(SFD_OBJ:.o=.d) $(SFPIPE_OBJ:.o=.d) \
    $(SFCAT_OBJ:.o=.d) $(SFCTL_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
