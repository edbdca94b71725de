# Family-support assistant. `make run` sets everything up on first use and starts every service;
# `make test-fast` runs the tests that start no server, `make test` every test. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/benzo-family.tar.gz
SPACY := build/spacy/en_family/meta.json
SENTENCES := build/minilm/model.safetensors
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
export PYTHONWARNINGS := ignore

# pytest markers (pytest.ini): the fast tier leaves out every test that starts a process, drives a browser, runs the
# production profile or trains a model
FAST_TESTS := not servers and not browser and not prod and not training
TRAINING_INPUTS := domain.yml config.yml $(wildcard data/*.yml) config/safety.yml \
    bot/rasa/emergency_override.py bot/core/safety.py

.PHONY: setup run status train validate shell test test-fast screenshots eval compare lint lock clean test-deps staff-user

## setup: virtualenv with pinned dependencies, spaCy pipeline, front-end packages
setup: $(VENV)/.installed $(SPACY) $(SENTENCES) node_modules/.installed

$(VENV)/.installed: requirements.lock
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet pip==23.0.1 setuptools==70.3.0 wheel==0.45.1
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check
	touch $@

$(SPACY): $(VENV)/.installed tools/spacy_pipeline.py
	$(PY) -m tools.spacy_pipeline

$(SENTENCES): $(VENV)/.installed tools/sentence_model.py
	$(PY) -m tools.sentence_model

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test-deps: the Debian packages the tests use: Chromium (browser tests), PostgreSQL, Redis, nginx (production tests)
test-deps:
	@scripts/system-deps.sh chromium postgresql redis-server nginx

## train: train the model into models/ when data, domain or config changed
train: $(MODEL)

$(MODEL): $(VENV)/.installed $(SPACY) $(SENTENCES) $(TRAINING_INPUTS)
	$(PY) -m tools.training config.yml
	touch $@

## run: set up on first use, then start the action server, Rasa, the web server and the retention job under supervisord (Ctrl-C stops all)
run: setup train
	scripts/run.sh

## status: each service of make run and make run-prod: up/down, pid, uptime, restarts, health check
status:
	@$(PY) -m scripts.dev status; dev=$$?; $(PY) -m scripts.prod.stack status; prod=$$?; exit $$((dev || prod))

## validate: rasa data validate (no warnings allowed), the topic contract, the source check and the project's copies
## of ../shared (with the action server run from only the files it ships with)
validate: setup
	$(PY) -m pytest -q tests/test_data.py tests/test_content.py tests/test_action_server.py

## shell: talk to the assistant in a terminal (starts the action server in the background)
shell: setup train
	scripts/shell.sh

## test-fast: the tests that start no server (unit, data, content, safety, stories, NLU hold-out): about a minute
test-fast: $(VENV)/.installed train
	$(PY) -m pytest -m "$(FAST_TESTS)"

## test: every test (adds HTTP end-to-end, the lock store on Redis, browser, production profile)
test: setup train test-deps
	$(PY) -m pytest

## screenshots: refresh the README's screenshots in docs/ (the browser tests save them in build/screenshots/)
screenshots: setup train
	@scripts/system-deps.sh chromium
	rm -rf build/screenshots
	$(PY) -m pytest -m screenshots
	cp build/screenshots/*.png docs/

## eval: hold-out, blind set, 5-fold cross-validation with the threshold grid, the crisis sets and the dialogues (README, Numbers)
eval: setup train
	$(PY) -m tools.evaluate

## compare: train and evaluate the candidate pipelines of config/candidates/ (README, "Choosing the pipeline")
compare: setup
	$(PY) -m tools.evaluate --compare config/candidates

## staff-user: create a staff console account: make staff-user NAME=alice [ROLE=admin|responder] (asks for the password);
## PROFILE=prod: in the production profile's PostgreSQL (settings and password from var/prod/, make run-prod first)
STAFF_USERS = $(if $(filter prod,$(PROFILE)),$(PY) -m scripts.prod.stack users,$(PY) -m bot.staff.users)
staff-user: setup
	@test -n "$(NAME)" && test -z "$(filter-out prod,$(PROFILE))" || \
	  (echo "usage: make staff-user NAME=alice [ROLE=admin|responder|reviewer] [PROFILE=prod]" >&2; exit 2)
	$(STAFF_USERS) create $(NAME) --role $(or $(ROLE),reviewer)

## lint: ruff over the Python code (CI runs it before the tests)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bot actions tests tools scripts bench

## lock: re-pin the dependency tree after changing requirements.in
lock:
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip check
	$(PY) -m pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock

clean:
	rm -rf models build results

-include mk/*.mk
