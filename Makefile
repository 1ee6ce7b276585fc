# Two commands set everything up on a fresh machine:
#   make report   build .venv if needed, run every notebook (full profile), regenerate figures/
#   make test     build .venv if needed, run the unit tests, then smoke-run every notebook under nbval
#   make test-browser   install Chromium + Playwright if missing, run the end-to-end browser tests
# Options: NB=01 (one notebook, or a comma list), DRY=1 (report: print the plan only), PROFILE=long
#   (report: also the sweeps kept out of the 90-minute full report),
#          PYTHON=python3.11 (interpreter for the venv).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KERNEL := dijkstra-lab
STAMP  := $(VENV)/.installed
SMOKE  := build/smoke
NBARG  := $(if $(NB),--nb $(NB),)
DRYARG := $(if $(DRY),--dry-run,)
PROFILE ?= full
# Everything a test writes goes under build/: the committed figures/, results/ and README stay
# untouched (`.ci/run` checks that `git status` is clean afterwards).
scratch = LAB_RUNS_DIR=$(CURDIR)/$(1)/runs LAB_FIGURES_DIR=$(CURDIR)/$(1)/figures LAB_RESULTS_DIR=$(CURDIR)/$(1)/results

.PHONY: env browser-deps test test-unit test-notebooks test-slow test-browser report html lab bench clean

env: $(STAMP)

# Everything is installed from pyproject.toml (torch pinned there to the CPU wheel 2.13.0);
# the `cluster` extra (Ray) too, so that the test comparing Ray and local sweeps runs.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cluster]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (dijkstra-lab)"
	touch $(STAMP)

test: test-unit test-notebooks

test-unit: env
	$(call scratch,build/test) $(PY) -m pytest -q -p no:cacheprovider tests

# Smoke-run the notebooks (all, or those NB names) into a fresh build/smoke, then re-execute
# exactly those under nbval: cells marked `# NBVAL_CHECK_OUTPUT` must reproduce exactly.
test-notebooks: env
	rm -rf $(SMOKE)
	$(PY) -m lib report --profile smoke --out $(SMOKE) $(NBARG)
	@nbs="$$(ls $(SMOKE)/[0-9]*.ipynb 2>/dev/null)"; \
	if [ -z "$$nbs" ]; then echo "error: no smoke-run notebooks in $(SMOKE) to check" >&2; exit 1; fi; \
	echo "nbval: $$nbs"; \
	$(call scratch,$(SMOKE)) $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-kernel-name $(KERNEL) \
	  --nbval-cell-timeout 600 --nbval-sanitize-with notebooks/nbval_sanitize.cfg $$nbs

test-slow: env
	$(call scratch,build/test) $(PY) -m pytest -q -p no:cacheprovider -m slow tests

# Debian's chromium (apt, if missing) and the `browser` extra (Playwright, Voila): idempotent.
browser-deps: env
	bash scripts/install_browser.sh $(VENV)

test-browser: browser-deps
	$(call scratch,build/test) $(PY) -m pytest -q -p no:cacheprovider -m browser tests

# Runs the notebooks (each shows its cell progress and time), then writes report/index.html.
report: env
	$(PY) -m lib report --profile $(PROFILE) $(NBARG) $(DRYARG)
	$(if $(DRY),,$(PY) -m lib.html_report)

html: env
	$(PY) -m lib.html_report

lab: env
	$(VENV)/bin/jupyter lab notebooks/

bench: env
	$(PY) -m lib bench

clean:
	rm -rf build .pytest_cache
