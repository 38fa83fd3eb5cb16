# The README's two commands: `make lab` sets everything up and opens the student notebooks in JupyterLab; `make test`
# sets up if needed and runs the tests. A step is redone only when pyproject.toml changes (torch is pinned: see README).
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

# The student edition in student/ (solutions replaced by stubs, checks that answer in one line), in seconds. A notebook
# you changed or ran is kept as it is (your work); delete it to get a fresh copy.
student: $(VENV)/.student
	$(VENV)/bin/python scripts/build_site.py --student-only --out student

lab: $(VENV)/.student student
	$(LAB) student/

# The full lessons, solutions included (nbs/, the notebooks the course is built from)
lab-full: $(VENV)/.student
	$(LAB) nbs/

# The instructor build (_site_instructor/, never published): the site with the answers, and the RISE copies in present/
instructor: $(VENV)/.dev
	$(VENV)/bin/python scripts/build_site.py --instructor

present: $(VENV)/.student instructor
	$(LAB) _site_instructor/present/

test: $(VENV)/.dev
	$(VENV)/bin/python -m pytest tests -n 2 -v

# The built notebooks run where they are built: the student edition and the RISE copies, top to bottom (about as long
# as the tests; CI runs it after them)
site-notebooks: $(VENV)/.dev
	$(VENV)/bin/python scripts/build_site.py
	$(VENV)/bin/python scripts/build_site.py --instructor
	$(VENV)/bin/python scripts/run_site_notebooks.py _site/student _site_instructor/present

.PHONY: setup student lab lab-full instructor present test site-notebooks
