# Every target bootstraps what it needs: a fresh clone needs only Python 3.11+,
# make, and (for `make book`) npm, which fetches MathJax from the npm registry.
#
#   make book     build the HTML book into _build/html (zero warnings allowed)
#   make test     ruff, the unit tests, nbval (strict) over every notebook, and the built book
#                 checked in a browser (chromium through Playwright; axe-core for accessibility)
#   make test-threads  nbval again with the default thread count (numbers must not move)
#   make lab      JupyterLab on chapters/ with the book's kernel
#   make outputs  re-execute every notebook in place and store its outputs (after a change)
#   make bench    time the implementations side by side (benchmarks/results.md)
#   make experiments  rerun every experiment script in full and rewrite experiments/results/
#   make assignments  the course assignments' student versions and autograder files (nbgrader)
#   make clean    remove the build and caches (keeps .venv); distclean also .venv

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MATHJAX_VERSION := 3.2.2
OFFLINE := _build/offline/mathjax

.PHONY: browser book test test-threads lab bench experiments outputs clean distclean render-offline \
        assignments repository-url pdf pdf-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One stamp per group of optional dependencies; pyproject.toml changes re-install.
$(VENV)/.stamp-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[$*]"
	touch $@

# MathJax 3 served from the build itself, so the book reads with no network.
$(OFFLINE)/tex-mml-chtml.js:
	rm -rf _build/npm $(OFFLINE)
	mkdir -p _build/npm $(OFFLINE)/output/chtml/fonts $(OFFLINE)/input/tex
	npm install --silent --no-audit --no-fund --prefix _build/npm mathjax@$(MATHJAX_VERSION)
	cp _build/npm/node_modules/mathjax/es5/tex-mml-chtml.js $(OFFLINE)/
	cp -r _build/npm/node_modules/mathjax/es5/output/chtml/fonts/woff-v2 $(OFFLINE)/output/chtml/fonts/
	cp -r _build/npm/node_modules/mathjax/es5/input/tex/extensions $(OFFLINE)/input/tex/

book: $(VENV)/.stamp-book $(OFFLINE)/tex-mml-chtml.js
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going
	$(BIN)/python tests/check_offline_html.py _build/html
	@echo "The book: $(CURDIR)/_build/html/index.html"

# Two pytest workers already fill two cores: each runs with one thread, since
# more threads per worker only fight over the cores. The printed numbers do not
# depend on the thread count; `make test-threads` re-runs the notebooks with the
# libraries' default threads, one notebook at a time, to show it.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# The browser checks (tests/test_browser.py) need the built book, axe-core (accessibility
# rules, from the npm registry) and Debian's chromium, driven by Playwright for Python.
AXE_VERSION := 4.14.1
AXE := _build/npm-axe/node_modules/axe-core/axe.min.js

$(AXE):
	npm install --silent --no-audit --no-fund --prefix _build/npm-axe axe-core@$(AXE_VERSION)

# chromium (and a font for the Chinese terms) is installed when run as root, as CI runs;
# otherwise the browser checks skip and say how to install it.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	  else \
	    echo "chromium is missing: the browser checks will skip (as root: apt-get install chromium fonts-noto-cjk)"; \
	  fi; \
	fi

# The whole book as one PDF (Sphinx's LaTeX builder, xelatex, Noto CJK for the Chinese terms),
# warnings as errors. The TeX packages (about 650 MB) are installed when run as root.
PDF_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
                texlive-fonts-recommended texlive-lang-chinese latexmk fonts-noto-cjk fonts-dejavu-core \
                fonts-freefont-otf
PDF := _build/latex/rnnbook.pdf

pdf-tools:
	@if command -v xelatex >/dev/null 2>&1 && command -v latexmk >/dev/null 2>&1 \
	    && fc-list 2>/dev/null | grep -q "Noto Serif CJK" && fc-list | grep -q FreeSerif; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(PDF_PACKAGES); \
	else \
	  echo "make pdf needs TeX Live and Noto CJK: sudo apt-get install $(PDF_PACKAGES)"; exit 1; \
	fi

pdf: $(VENV)/.stamp-book $(OFFLINE)/tex-mml-chtml.js pdf-tools
	$(BIN)/jupyter-book build . --builder pdflatex --warningiserror --keep-going
	@# LaTeX's own warnings that Sphinx does not see: a reference or a glyph that did not make it
	@if grep -E "There were undefined references|Missing character" _build/latex/rnnbook.log; then \
	  echo "make pdf: see _build/latex/rnnbook.log"; exit 1; fi
	@test -s $(PDF) && echo "The book as a PDF: $(CURDIR)/$(PDF)" \
	  && pdfinfo $(PDF) 2>/dev/null | grep -E "^Pages|^File size" || true

# The OpenBLAS kernels every printed number is computed with (src/rnnbook/_numerics.py; importing
# rnnbook sets them too, but NumPy reads them when it loads, which can come first).
PINNED := $(shell $(PYTHON) src/rnnbook/_numerics.py)

test: $(VENV)/.stamp-test $(VENV)/.stamp-assignments book $(AXE) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks
	OMP_NUM_THREADS=1 $(PINNED) $(BIN)/python -m pytest -n 2 --dist loadfile $(NBVAL)

test-threads: $(VENV)/.stamp-test
	$(PINNED) $(BIN)/python -m pytest $(NBVAL) chapters

# The kernel is installed inside .venv under the name every notebook uses
# (python3), and JUPYTER_PATH puts it ahead of any other python3 kernel.
lab: $(VENV)/.stamp-lab $(VENV)/.stamp-test
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnnbook)"
	$(PINNED) JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab --ServerApp.root_dir=chapters \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Stored outputs are what nbval compares: after a change that moves a printed number,
# re-execute the notebooks (one thread, as make test runs them) and read the diff.
outputs: $(VENV)/.stamp-book $(VENV)/.stamp-test
	for nb in $(sort $(wildcard chapters/*.ipynb chapters/*/*.ipynb)); do \
	  OMP_NUM_THREADS=1 $(PINNED) $(BIN)/jupyter execute --inplace $$nb || exit 1; done

bench: $(VENV)/.stamp-test
	$(BIN)/python benchmarks/run.py

# The experiments too large for a notebook: each script is deterministic given its seeds
# and writes its results into experiments/results/, which the chapters load. make test
# reruns each one at a reduced size against a stored reduced-size result.
EXPERIMENTS := truncated_bptt long_lag lstm_variants lstm_vs_gru fill_in_blank expressions clockwork cnn_lstm translation char_lm ctc

experiments: $(VENV)/.stamp-test
	for e in $(EXPERIMENTS); do OMP_NUM_THREADS=1 $(PINNED) $(BIN)/python experiments/$$e.py || exit 1; done

# The one repository setting (empty until a public copy exists): writes URL into _config.yml and
# into every notebook's install cell; the repository, Binder and Colab buttons appear only once it
# is set. `make repository-url URL=https://github.com/<owner>/<name>`; URL= (empty) turns them off.
repository-url: $(BIN)/python
	$(BIN)/python book/_ext/repository.py "$(URL)"

# The course assignments (assignments/source/<name>/<name>.ipynb, in nbgrader's format): a course
# folder in _build/assignments with the student versions (release/) and the gradebook the
# autograder reads; a teacher then runs nbgrader there (book/how_to_use.md, "Teaching").
ASSIGNMENTS := $(sort $(notdir $(wildcard assignments/source/*)))

assignments: $(VENV)/.stamp-assignments
	rm -rf _build/assignments
	mkdir -p _build/assignments
	cp -r assignments/source assignments/nbgrader_config.py _build/assignments/
	cd _build/assignments && for a in $(ASSIGNMENTS); do \
	  PATH=$(CURDIR)/$(BIN):$$PATH $(CURDIR)/$(BIN)/nbgrader generate_assignment $$a --force \
	  || exit 1; done
	@echo "Student versions: $(CURDIR)/_build/assignments/release"

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# Screenshots of the built book in headless Chromium with no network, and a
# check that MathJax typeset every page's maths (installs Debian's chromium).
render-offline: book
	bash tests/render_offline.sh
