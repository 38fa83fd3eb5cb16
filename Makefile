# The two commands of the README: `make lab` sets everything up and opens the lessons in JupyterLab;
# `make test` sets up if needed and runs the tests. Set-up is redone only when pyproject.toml changes.
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0 -e ".[dev,student]"
	touch $@

setup: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab nbs/

test: $(STAMP)
	$(VENV)/bin/python -m pytest tests -n 2 -v

.PHONY: setup lab test
