# The README's two commands: `make lab` sets everything up and opens the lessons in JupyterLab; `make test` sets up
# if needed and runs the tests. A step is redone only when pyproject.toml changes (torch is pinned: see README).
VENV := .venv

$(VENV)/.dev: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0 -e ".[dev]"
	touch $@

$(VENV)/.student: $(VENV)/.dev
	$(VENV)/bin/pip install -q torch==2.13.0 -e ".[dev,student]"
	touch $@

setup: $(VENV)/.dev

# JupyterLab refuses to start as root (containers, cloud VMs) unless told --allow-root
LAB := $(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(VENV)/.student
	$(LAB) nbs/

present: $(VENV)/.student
	$(VENV)/bin/python scripts/build_site.py
	$(LAB) _site/present/

test: $(VENV)/.dev
	$(VENV)/bin/python -m pytest tests -n 2 -v

.PHONY: setup lab present test
