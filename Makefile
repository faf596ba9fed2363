# socklab top-level Makefile.  On a fresh Debian 12 machine, as root:
#   make grade   build and grade the reference solution of every lab
#   make test    every test of the kit (C unit tests, grader, labs)
# Both install missing Debian packages first (tools/deps.sh).

PYTHON := /usr/bin/python3
JOBS ?= 2
# Tests in parallel: most of a test is waiting on a case's timeouts, not CPU,
# so three workers on two cores cut make test from 16 to 13 minutes
# (tests run at -n 2 and -n 3 without port clashes).
TEST_JOBS ?= 3
LABS := $(sort $(notdir $(patsubst %/lab.toml,%,$(wildcard labs/*/lab.toml))))

.PHONY: all deps tools grade test test-c test-py test-hostile skeletons check-skeletons bench dist gradescope clean help

all: tools

help:
	@echo "make grade       grade the reference solutions of: $(LABS)"
	@echo "make test        run all of the kit's tests (TEST_JOBS=3 pytest workers)"
	@echo "make test-hostile  grade a silent and a garbage program as every lab (about 10 minutes)"
	@echo "make skeletons   regenerate skeletons/ from solutions/"
	@echo "make bench       run every benchmark in bench/ (installs nginx and wrk)"
	@echo "make dist        the student tarball: build/socklab-student-VERSION.tar.gz"
	@echo "make gradescope LAB=x   a Gradescope autograder: build/gradescope-x.zip"
	@echo "make deps        install missing Debian packages (root)"
	@echo "JOBS=n           cases graded in parallel by make grade (default 2)"
	@echo "make clean       remove build products and results"

deps:
	@tools/deps.sh

tools: deps
	@$(MAKE) -s -C grader/sandbox
	@$(MAKE) -s -C grader/pcapcheck

grade: tools
	@status=0; for lab in $(LABS); do \
		grader/grade $$lab -j $(JOBS) --results results/$$lab || status=1; echo; \
	done; \
	$(PYTHON) tools/scoretable.py $(addprefix results/,$(LABS)); exit $$status

# Each bench/<name>/bench.py prints its ratios against a named peer.
bench: tools
	@tools/deps.sh bench
	@for b in bench/*/bench.py; do echo "== $$b"; $(PYTHON) $$b || exit 1; done

skeletons:
	@$(PYTHON) tools/mkskeleton.py

# Student copy: skeletons, handouts, the grader with visible cases only (tools/mkdist.py).
dist:
	@$(PYTHON) tools/mkdist.py

# Gradescope autograder of one lab, hidden cases included (tools/mkgradescope.py).
gradescope:
	@if [ -z "$(LAB)" ]; then echo "make gradescope: say which lab, e.g. make gradescope LAB=echo (labs: $(LABS))" >&2; exit 2; fi
	@$(PYTHON) tools/mkgradescope.py $(LAB)

check-skeletons:
	@$(PYTHON) tools/mkskeleton.py --check

test-c: tools
	@$(MAKE) -s -C tests/c check
	@$(MAKE) -s -C tests/pcapcheck check

test-py: tools
	@$(PYTHON) -m pytest -n $(TEST_JOBS) --durations=15 tests   # the slowest tests: the 15-minute budget

test: test-c test-py

# Not in `make test` (which grades a few cases of three labs): every case of
# every lab against a silent and a garbage-sending program.
test-hostile: tools
	@SOCKLAB_HOSTILE_ALL=1 $(PYTHON) -m pytest -n $(JOBS) --durations=20 tests/grader/test_hostile_corpus.py

clean:
	@$(MAKE) -s -C grader/sandbox clean
	@$(MAKE) -s -C grader/pcapcheck clean
	@rm -rf build results
