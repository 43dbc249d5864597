# Two commands on a fresh machine (see README):
#   make demo   install everything, then run the main job on corpus/
#   make test   install everything, then run the whole test suite, slow tier included
# Plain pip in a venv: the CPU build of torch is installed first so that nothing pulls CUDA wheels.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data/demo
STAMP := $(VENV)/.installed

FUZZ_EXAMPLES ?= 2000
HOSTILE_DIR ?= out/hostile

.PHONY: install demo demo-cli test test-fast bench fuzz corpus clean

$(STAMP): pyproject.toml
	@# the OCR engine for scanned PDFs (extractor/parsing/ocr.py): Debian's tesseract-ocr, installed when missing and run as root
	@command -v tesseract >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tesseract-ocr >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tesseract-ocr >/dev/null; }; }; } || \
	  echo "tesseract-ocr missing: scanned PDFs will not be OCR'd; install it with 'sudo apt-get install tesseract-ocr'" >&2
	@# a real browser for the workspace's browser tests (tests/api/test_web_browser.py): Debian's chromium, as root, when missing
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
	  echo "chromium missing: the browser tests will skip; install it with 'sudo apt-get install chromium'" >&2
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job: the HTTP service on corpus/ (ingested into a demo tender on first start); prints the URL and fresh demo keys.
demo: install
	VBP_DATA_DIR=$(DATA) $(BIN)/vbp serve --demo

# The batch pipeline without the service: ingest, extract and list the corpus.
demo-cli: install
	VBP_DATA_DIR=$(DATA) $(BIN)/vbp ingest corpus/submissions/*.pdf
	for f in corpus/submissions/*.pdf; do VBP_DATA_DIR=$(DATA) $(BIN)/vbp extract "$$f" || exit 1; done
	VBP_DATA_DIR=$(DATA) $(BIN)/vbp show --list

test: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest --slow

test-fast: install
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: install
	$(BIN)/vbp bench --parse-only ../shared/data/rct_numeric/pdfs
	$(BIN)/vbp bench --parse-only ../shared/data/pdfs
	$(BIN)/python bench/hostile_pdfs.py $(HOSTILE_DIR) --check

# Issue 16: the long fuzz. The property-based fuzz with FUZZ_EXAMPLES examples, then the full-size hostile corpus
# (a 400 MB flate bomb, 5,000 pages, 2 million operators, ...) parsed file by file: outcome, seconds, peak MB.
fuzz: install
	VBP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/extractor/test_hostile.py --slow -q
	$(BIN)/python bench/hostile_pdfs.py $(HOSTILE_DIR) --check

corpus: install
	$(BIN)/python -m eval.corpus_render
	$(BIN)/python -m eval.corpus_check

clean:
	rm -rf $(VENV) data .pytest_cache
