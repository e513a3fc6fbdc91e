# Makefile for the ledger extension (PGXS)
#
# make            build ledger.so
# make install    install into the PostgreSQL found by pg_config
# make test       install what is missing, build, install, run every suite
# make demo       install what is missing, build, install, show it working

EXTENSION = ledger
MODULE_big = ledger
DATA = ledger--1.0.sql
PGFILEDESC = "ledger - columnar event ledger with rollup"

SRCS = $(sort $(wildcard src/*.c src/*/*.c))
OBJS = $(SRCS:.c=.o)

PG_CPPFLAGS = -I$(srcdir)/src/include -std=gnu99
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
ifdef LEDGER_WERROR
PG_CFLAGS += -Werror
endif
SHLIB_LINK = -lzstd -lroaring

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=ledger

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso --load-extension=ledger

TAP_TESTS = 1
EXTRA_CLEAN = results regression.diffs regression.out output_iso tmp_check tmp_check_iso log test/fuzz/build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: test demo deps bench fuzz

deps:
	./scripts/deps.sh

test:
	./scripts/test.sh

demo:
	./scripts/demo.sh

bench:
	./test/bench/run.sh

fuzz:
	./test/fuzz/run.sh

# PGXS tracks no header dependencies here: rebuild everything when one changes
$(OBJS): $(wildcard src/include/ledger/*.h src/*/*.h)
