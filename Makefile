# forkchat: forkchatd (the daemon) and forkchat (the client).
#   make            build bin/forkchatd and bin/forkchat
#   make test       unit tests (cmocka) and bats tests against real processes
#   make test SAN=1 the same under AddressSanitizer + UBSan
#   make run        the daemon in the foreground on the default ports
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP
LDLIBS_D = -lpthread -lm -lssl -lcrypto -lhiredis
LDLIBS_C = -lssl -lcrypto -ledit -lm

ifeq ($(SAN),1)
BUILD   := build/san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BIN     := build/san/bin
else
BUILD   := build/opt
BIN     := bin
endif

COMMON_SRC = common/log.c common/util.c common/config.c common/loop.c common/tlsctx.c common/safefile.c
PROTO_SRC  = proto/line.c proto/wire.c proto/irc.c
IPC_SRC    = ipc/shmlock.c ipc/registry.c ipc/registry_chan.c ipc/frame.c ipc/chan.c ipc/metrics.c ipc/userinfo.c
WORKER_SRC = $(wildcard worker/*.c)
MASTER_SRC = $(wildcard master/*.c)
CLUSTER_SRC = $(wildcard cluster/*.c)
CLIENT_SRC = $(wildcard client/*.c)
CRYPTO_SRC = $(wildcard proto/crypto.c)

D_SRC = $(COMMON_SRC) $(PROTO_SRC) $(IPC_SRC) $(WORKER_SRC) $(MASTER_SRC) \
	$(CLUSTER_SRC)
C_SRC = $(CLIENT_SRC) $(PROTO_SRC) $(CRYPTO_SRC) common/util.c
D_OBJ = $(D_SRC:%.c=$(BUILD)/%.o)
C_OBJ = $(sort $(C_SRC:%.c=$(BUILD)/%.o))

TARGETS = $(BIN)/forkchatd
ifneq ($(CLIENT_SRC),)
TARGETS += $(BIN)/forkchat
endif

.PHONY: all test unit bats run install uninstall clean lint format format-check fuzz bench \
	bench-smoke bench-compare deps format

all: $(TARGETS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/forkchatd: $(D_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D)

$(BIN)/forkchat: $(C_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_C)

-include $(D_OBJ:.o=.d) $(C_OBJ:.o=.d)

# ---- tests, tools, fuzzing, lint, benchmarks ----
include tests/tests.mk
include tests/tools.mk
include fuzz/fuzz.mk
include lint.mk
include bench/bench.mk
include packaging/deb.mk
include tests/irctest.mk

deps:
	@sh tests/deps.sh

test: deps all unit bats

run: deps-build all
	$(BIN)/forkchatd -f

# ---- install ----
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/forkchat \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 bin/forkchatd $(DESTDIR)$(SBINDIR)/forkchatd
	install -m 755 bin/forkchat $(DESTDIR)$(BINDIR)/forkchat
	install -m 644 master/forkchatd.8 $(DESTDIR)$(MANDIR)/man8/forkchatd.8
	install -m 644 master/forkchatd.conf.5 $(DESTDIR)$(MANDIR)/man5/forkchatd.conf.5
	install -m 644 client/forkchat.1 $(DESTDIR)$(MANDIR)/man1/forkchat.1
	install -m 644 contrib/forkchatd.conf $(DESTDIR)$(SYSCONFDIR)/forkchat/forkchatd.conf.sample
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		contrib/forkchatd.service.in > $(DESTDIR)$(PREFIX)/lib/systemd/system/forkchatd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/forkchatd $(DESTDIR)$(BINDIR)/forkchat \
		$(DESTDIR)$(MANDIR)/man8/forkchatd.8 \
		$(DESTDIR)$(MANDIR)/man5/forkchatd.conf.5 \
		$(DESTDIR)$(MANDIR)/man1/forkchat.1 \
		$(DESTDIR)$(SYSCONFDIR)/forkchat/forkchatd.conf.sample \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/forkchatd.service

FORMAT_SRC = $(wildcard common/*.[ch] proto/*.[ch] ipc/*.[ch] worker/*.[ch] \
	master/*.[ch] cluster/*.[ch] client/*.[ch] tests/*.[ch] bench/*.[ch] fuzz/*.[ch])

# make format rewrites the sources; make format-check (part of lint) fails
# on any file that clang-format would change
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	@echo "clang-format ... $(sort $(dir $(FORMAT_SRC)))"
	@clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build bin
