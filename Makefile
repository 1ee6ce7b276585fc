# Two commands set everything up on a fresh machine:
#   make report   build .venv if needed, run every notebook (full profile), regenerate figures/
#   make test     build .venv if needed, run the unit tests, then smoke-run every notebook under nbval
#   make test-browser   install Chromium + Playwright if missing, run the end-to-end browser tests
# Options: NB=01 (one notebook, or a comma list), PYTHON=python3.11 (interpreter for the venv).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KERNEL := dijkstra-lab
STAMP  := $(VENV)/.installed
SMOKE  := build/smoke
NBARG  := $(if $(NB),--nb $(NB),)
SMOKE_NBS = $(if $(NB),$(foreach k,$(subst $(comma), ,$(NB)),$(wildcard $(SMOKE)/$(k)*.ipynb)),$(SMOKE)/[0-9]*.ipynb)
comma  := ,

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
	$(PY) -m pytest -q tests

# Smoke-run the notebooks into build/, then re-execute them under nbval: cells marked
# `# NBVAL_CHECK_OUTPUT` must reproduce exactly.
test-notebooks: env
	rm -rf $(SMOKE)
	$(PY) -m lib report --profile smoke --out $(SMOKE) $(NBARG)
	LAB_FIGURES_DIR=$(CURDIR)/$(SMOKE)/figures LAB_RUNS_DIR=$(CURDIR)/$(SMOKE)/runs \
	  $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-kernel-name $(KERNEL) \
	  --nbval-cell-timeout 600 --nbval-sanitize-with notebooks/nbval_sanitize.cfg $(SMOKE_NBS)

test-slow: env
	$(PY) -m pytest -q -m slow tests

# Debian's chromium (apt, if missing) and the `browser` extra (Playwright, Voila): idempotent.
browser-deps: env
	bash scripts/install_browser.sh $(VENV)

test-browser: browser-deps
	$(PY) -m pytest -q -p no:cacheprovider -m browser tests

# Runs the notebooks (each shows its cell progress and time), then writes report/index.html.
report: env
	$(PY) -m lib report --profile full $(NBARG)
	$(PY) -m lib.html_report

html: env
	$(PY) -m lib.html_report

lab: env
	$(VENV)/bin/jupyter lab notebooks/

bench: env
	$(PY) -m lib bench

clean:
	rm -rf build .pytest_cache
