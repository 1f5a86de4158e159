# Test harness of the dicom.secure_transfer collection.
#
# `make test` runs every check on a fresh Debian 12 machine: it installs the Debian
# packages and the Python tools it needs, starts a Docker engine and builds the base
# images when they are missing, then runs lint, sanity, unit, integration and Molecule.
# `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
BIN := $(CURDIR)/$(VENV)/bin
PY_VERSION = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ansible-test resolves symlinks and needs the collection under
# .../ansible_collections/<namespace>/<name>/, so sanity and integration run on a copy.
BUILD := $(CURDIR)/.build
COPY := $(BUILD)/ansible_collections/dicom/secure_transfer
# ansible, ansible-lint and molecule find the collection through a link to this tree.
COLLECTIONS := $(BUILD)/collections
LINK := $(COLLECTIONS)/ansible_collections/dicom/secure_transfer

DEB_PACKAGES := docker.io debootstrap dcmtk openssl rsync shellcheck
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Targets marked destructive change the machine they run on; CI machines are throwaway.
INTEGRATION_ARGS ?= $(if $(filter true,$(CI)),--allow-destructive,)
MOLECULE_SCENARIOS ?= $(notdir $(patsubst %/,%,$(dir $(wildcard molecule/*/molecule.yml))))

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= $(if $(filter true,$(CI)),0,1)
export PY_COLORS ?= $(if $(filter true,$(CI)),0,1)

.PHONY: help test venv deps docker images lint build sanity unit integration molecule \
	docs demo demo-clean collection-link collection-copy clean

help:
	@echo 'make test         lint, sanity, unit, integration and molecule, in that order'
	@echo 'make venv         Python tools from requirements-dev.txt into $(VENV)'
	@echo 'make deps         Debian packages the tests need: $(DEB_PACKAGES)'
	@echo 'make docker       start a Docker engine when none answers'
	@echo 'make images       build the systemd base images when missing'
	@echo 'make lint         ansible-lint (production profile, with yamllint), changelog lint'
	@echo 'make build        build the collection tarball, install it alone, render its docs'
	@echo 'make sanity       ansible-test sanity'
	@echo 'make unit         pytest tests/unit'
	@echo 'make integration  ansible-test integration --local (tests/integration/targets)'
	@echo 'make molecule     molecule test for each scenario: $(MOLECULE_SCENARIOS)'
	@echo 'make bench        400 CT images over mutual TLS: the manual recipe against the send job'
	@echo 'make bench-fleet  converge times and tasks per host for 1, 2, 4 and 8 senders'
	@echo 'make docs         refresh the role variables in README.md from meta/argument_specs.yml'
	@echo 'make demo         a sender and a receiver as local containers, one image sent'
	@echo 'make demo-clean   remove the demo containers'
	@echo 'make clean        remove $(VENV), .build and test output'

test: lint build sanity unit integration molecule

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# docker.io only where no other Docker engine is installed (docker-ce would conflict).
deps:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if command -v dockerd >/dev/null 2>&1; then missing=$${missing/ docker.io/}; fi; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
	    apt-get install -y -qq $$missing >/dev/null; \
	fi

docker: deps
	$(SUDO) scripts/ensure-docker.sh

images: docker
	$(SUDO) scripts/build-base-images.sh

collection-link:
	@mkdir -p $(dir $(LINK))
	@ln -sfn $(CURDIR) $(LINK)

# The copy gets an empty git repository of its own: ansible-test lists the files to test
# with git, and would otherwise find this repository's .git, where .build is ignored.
collection-copy: deps
	@mkdir -p $(COPY)
	@test -d $(COPY)/.git || git init --quiet $(COPY)
	@rsync -a --delete --exclude /.venv --exclude /.build --exclude /.git \
	  --exclude /.cache --exclude /.ansible --exclude /tests/output \
	  --exclude __pycache__ --exclude .pytest_cache ./ $(COPY)/

lint: venv collection-link
	ansible-lint
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# The collection as users get it: built with ansible-galaxy, installed on its own, and
# its modules' documentation rendered from the installed copy.
build: venv
	rm -rf $(BUILD)/dist $(BUILD)/installed
	ansible-galaxy collection build --force --output-path $(BUILD)/dist
	ansible-galaxy collection install --force -p $(BUILD)/installed \
	  $(BUILD)/dist/dicom-secure_transfer-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc dicom.secure_transfer.tls_identity \
	  dicom.secure_transfer.pkcs12_extract dicom.secure_transfer.certificate_info >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-playbook --syntax-check \
	  dicom.secure_transfer.site dicom.secure_transfer.verify dicom.secure_transfer.send \
	  dicom.secure_transfer.report

# ansible-test builds a virtual environment per sanity test and puts pip into it with a
# bootstrap script it downloads from a host CI cannot reach; it takes the script from
# its cache when there is one, so the cache gets scripts/ansible-test-get-pip.py.
sanity: venv collection-copy
	@pip_version=$$($(BIN)/python -c 'import types; \
	  from ansible_test._internal.python_requirements import get_venv_packages; \
	  print(get_venv_packages(types.SimpleNamespace(version="$(PY_VERSION)"))["pip"])'); \
	cache="$$HOME/.ansible/test/cache/get_pip_$${pip_version//./_}.py"; \
	if [ ! -e "$$cache" ]; then \
	  mkdir -p "$$(dirname "$$cache")"; \
	  cp scripts/ansible-test-get-pip.py "$$cache"; \
	fi
	cd $(COPY) && ansible-test sanity --local --requirements --python $(PY_VERSION)

unit: venv deps collection-link
	@if [ -z "$$(find tests/unit -name 'test_*.py' 2>/dev/null)" ]; then \
	  echo 'unit: no tests under tests/unit yet, nothing to run'; \
	else \
	  PYTHONPATH=$(COLLECTIONS) pytest --import-mode=importlib -p no:cacheprovider tests/unit; \
	fi

integration: venv deps collection-copy
	@if [ -z "$$(find tests/integration/targets -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ]; then \
	  echo 'integration: no targets under tests/integration/targets yet, nothing to run'; \
	else \
	  cd $(COPY) && ansible-test integration --local --python $(PY_VERSION) $(INTEGRATION_ARGS); \
	fi

molecule: venv images collection-link
	@failed=""; \
	for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "molecule: scenario $$scenario"; \
	  molecule test -s "$$scenario" || failed="$$failed $$scenario"; \
	done; \
	if [ -n "$$failed" ]; then echo "molecule: failed scenarios:$$failed"; exit 1; fi

# Benchmarks that print figures (scripts/bench*.sh); not part of `make test`.
.PHONY: bench bench-fleet
bench: venv images collection-link
	scripts/bench.sh

bench-fleet: venv images collection-link
	scripts/bench-fleet.sh

docs: venv
	$(BIN)/python scripts/role-docs.py

demo: venv images collection-link
	scripts/demo.sh

demo-clean: docker
	scripts/demo.sh clean

clean:
	rm -rf $(VENV) $(BUILD) tests/output .cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
