# aweb: asynchronous HTTP/1.1 and WebSocket server framework for C.
#
#   make run          start the example server on 127.0.0.1:8080 (conf/aweb.conf)
#   make test         the test suite (criterion, over loopback)
#   make test-asan    the same under AddressSanitizer + UBSan
#   make bench        benchmarks, printed beside their peers (not part of test)
#   make soak         mixed load on one server for SOAK_S seconds (120), then
#                     checks RSS, open fds and that every request was answered
#   make fuzz         the libFuzzer targets (tests/fuzz, clang), FUZZ_S seconds each (60)
#   make install      PREFIX=/usr/local DESTDIR=
#   make deps         install the Debian packages that are missing
#
# Variables: BUILD (build directory), CORO=asm|ucontext (context switch),
# SAN=1 (sanitizers; what test-asan sets), V=1 (show commands).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CORO ?= asm
SAN ?=
CC ?= cc
VERSION := 0.1.0

# Debian packages: the libraries, the tools the tests talk through, and what
# the benchmarks measure against.
DEB_PKGS := libuv1-dev node-llhttp libssl-dev libwslay-dev libcriterion-dev libjansson-dev \
            libinih-dev zlib1g-dev pkg-config curl openssl python3 python3-websockets clang \
            libclang-rt-14-dev chromium slowhttptest testssl.sh
BENCH_PKGS := wrk nginx-light python3-aiohttp

PC_LIBS := libuv libssl libcrypto jansson zlib inih
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp

ifeq ($(V),1)
Q :=
else
Q := @
endif

# pkg-config is asked only when building, so that `make deps` works on a bare machine.
PKG_CFLAGS = $(shell pkg-config --cflags $(PC_LIBS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PC_LIBS) 2>/dev/null) -lwslay -lpthread -ldl

LAYERS := lib http ws middleware
INCLUDES := $(addprefix -I,$(LAYERS)) -I$(LLHTTP_INC)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
AW_CFLAGS := -std=gnu11 $(WARN) -fPIC -fstack-clash-protection -D_GNU_SOURCE $(INCLUDES)
ifeq ($(CORO),ucontext)
AW_CFLAGS += -DAW_CORO_UCONTEXT=1
endif
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
AW_CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
endif

LIB_SRCS := $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
ASM_SRCS := $(wildcard lib/*.S)
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) \
            $(patsubst %.S,$(BUILD)/obj/%.o,$(ASM_SRCS)) \
            $(patsubst $(LLHTTP_SRC)/%.c,$(BUILD)/obj/llhttp/%.o,$(wildcard $(LLHTTP_SRC)/*.c))
PUBLIC_HDRS := $(filter-out %_int.h,$(foreach d,$(LAYERS),$(wildcard $(d)/*.h)))

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HELPERS := $(wildcard tests/helpers/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
SOAK_BINS := $(patsubst tests/soak/%.c,$(BUILD)/soak/%,$(wildcard tests/soak/*.c))
EXAMPLES := $(notdir $(wildcard examples/*))
EXAMPLE_BINS := $(addprefix $(BUILD)/examples/,$(EXAMPLES))

.PHONY: all deps run test test-run test-asan bench install uninstall clean format headers examples
.DEFAULT_GOAL := all

all: $(BUILD)/libaweb.a $(BUILD)/libaweb.so headers examples

deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# the browser test drives Debian's chromium with playwright-core from npm
	@if [ -f tests/browser/package-lock.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then \
	  echo "installing playwright-core (npm)"; \
	  npm --prefix tests/browser ci --no-audit --no-fund --loglevel=error >/dev/null; \
	fi

# --- the library ------------------------------------------------------------

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(AW_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(AW_CFLAGS) -c $< -o $@

# llhttp ships C sources, not a library: they are compiled in, with their own
# (quieter) warnings.
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -fPIC -Wall -Wno-unused-parameter $(filter -fsanitize%,$(AW_CFLAGS)) \
	  -I$(LLHTTP_INC) -c $< -o $@

$(BUILD)/libaweb.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libaweb.so: $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,libaweb.so.0 -o $@ $^ $(LDFLAGS) $(PKG_LIBS)

# The public headers, laid out as they are installed, for examples and tests
# that must use nothing else.
headers: $(BUILD)/include/aweb/.stamp
$(BUILD)/include/aweb/.stamp: $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	$(Q)cp $(PUBLIC_HDRS) $(dir $@) && touch $@

# --- examples, tests, benchmarks ---------------------------------------------

examples: $(EXAMPLE_BINS)
$(BUILD)/examples/%: $(BUILD)/libaweb.a $(BUILD)/include/aweb/.stamp FORCE
	@mkdir -p $(dir $@)
	@srcs="$(wildcard examples/$*/*.c)"; \
	 echo "  LINK    $@"; \
	 $(CC) $(CFLAGS) -std=gnu11 $(WARN) $(filter -fsanitize% -fno-%,$(AW_CFLAGS)) \
	   -I$(BUILD)/include $$srcs -o $@ $(BUILD)/libaweb.a $(LDFLAGS) $(PKG_LIBS)
FORCE:

$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(BUILD)/libaweb.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(AW_CFLAGS) $(PKG_CFLAGS) -Itests/helpers $< $(TEST_HELPERS) -o $@ \
	  $(BUILD)/libaweb.a $(LDFLAGS) $(PKG_LIBS) -lcriterion

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libaweb.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(AW_CFLAGS) $(PKG_CFLAGS) $< -o $@ $(BUILD)/libaweb.a $(LDFLAGS) $(PKG_LIBS)

$(BUILD)/soak/%: tests/soak/%.c $(BUILD)/libaweb.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(AW_CFLAGS) $(PKG_CFLAGS) $< -o $@ $(BUILD)/libaweb.a $(LDFLAGS) $(PKG_LIBS)

# `make run` serves examples/chat on 127.0.0.1:8080 (examples/hello: RUN_EXAMPLE=hello).
RUN_EXAMPLE ?= chat
RUN_ARGS ?= --listen 127.0.0.1:8080 --conf conf/aweb.conf
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./$(BUILD)/examples/$(RUN_EXAMPLE) $(RUN_ARGS)

test: deps
	$(Q)$(MAKE) --no-print-directory all test-run

test-run: $(TEST_BINS)
	$(Q)BUILD=$(BUILD) tests/run-tests.sh $(TEST_BINS)

test-asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SAN=1 CFLAGS="-O1 -g" all test-run

bench: deps
	$(Q)$(MAKE) --no-print-directory deps EXTRA_PKGS="$(BENCH_PKGS)"
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

# Not part of test: it takes SOAK_S seconds (120) plus a warm-up.
.PHONY: soak
SOAK_S ?= 120
soak: deps
	$(Q)$(MAKE) --no-print-directory $(SOAK_BINS)
	$(Q)BUILD=$(BUILD) SOAK_S=$(SOAK_S) tests/soak/soak.sh

# --- fuzzing ----------------------------------------------------------------
# Each tests/fuzz/fuzz_NAME.c is a libFuzzer target, linked with
# tests/fuzz/harness.c (libFuzzer's driver runs in a task of an aw_run loop)
# and the library built with clang for coverage and sanitizers in build-fuzz.
# Each runs FUZZ_S seconds on a copy of tests/fuzz/corpus/NAME (new inputs
# stay in build-fuzz); a crash, leak or timeout fails the run.
.PHONY: fuzz fuzz-build
FUZZ_S ?= 60
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB = $(shell $(CC) --print-runtime-dir)/libclang_rt.fuzzer_no_main-$(shell uname -m).a
fuzz: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang SAN=1 \
	  CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" fuzz-build
	$(Q)tests/fuzz/run.sh build-fuzz $(FUZZ_S)
fuzz-build: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/harness.c tests/fuzz/harness.h $(BUILD)/libaweb.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(AW_CFLAGS) $(PKG_CFLAGS) -Itests/fuzz $< tests/fuzz/harness.c -o $@ \
	  $(BUILD)/libaweb.a $(LDFLAGS) $(PKG_LIBS) $(FUZZ_LIB) -lstdc++

# --- installing --------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/aweb
	install -m 644 $(BUILD)/libaweb.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libaweb.so $(DESTDIR)$(PREFIX)/lib/libaweb.so.$(VERSION)
	ln -sf libaweb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libaweb.so.0
	ln -sf libaweb.so.0 $(DESTDIR)$(PREFIX)/lib/libaweb.so
	install -m 644 $(PUBLIC_HDRS) $(DESTDIR)$(PREFIX)/include/aweb/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: aweb' 'Description: asynchronous HTTP/1.1 and WebSocket server framework' \
	  'Version: $(VERSION)' 'Requires.private: $(PC_LIBS)' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -laweb' 'Libs.private: -lwslay -lpthread -ldl' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/aweb.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/aweb $(DESTDIR)$(PREFIX)/lib/pkgconfig/aweb.pc
	rm -f $(DESTDIR)$(PREFIX)/lib/libaweb.*

clean:
	rm -rf build build-asan build-fuzz

format:
	clang-format -i $(foreach d,$(LAYERS) examples tests,$(shell find $(d) -name '*.[ch]'))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
