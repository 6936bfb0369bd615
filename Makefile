# The two commands: `make demo` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
MOTO_PORT ?= 5055

# The demo: SQLite, the ORM broker, and the sandbox standing in for Amazon,
# reached only through SP_API_ENDPOINT and LWA_TOKEN_URL like the real thing.
# SQS is moto's server on MOTO_PORT, which bin/demo starts when moto is installed
# (without it, bin/demo clears SQS_* and the demo runs on the download alone).
DEMO_ENV := DEBUG=1 SANDBOX_ENABLED=1 Q_BROKER=orm \
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) \
	SP_API_ENDPOINT=http://$(HOST):$(PORT)/sandbox \
	LWA_TOKEN_URL=http://$(HOST):$(PORT)/sandbox/auth/o2/token \
	SELLER_CENTRAL_URL=http://$(HOST):$(PORT)/sandbox \
	LWA_CLIENT_ID=amzn1.application-oa2-client.sandbox \
	LWA_CLIENT_SECRET=sandbox-client-secret \
	SP_API_APP_ID=amzn1.sp.solution.sandbox \
	MOTO_PORT=$(MOTO_PORT) SQS_ENDPOINT_URL=http://$(HOST):$(MOTO_PORT) AWS_REGION=us-east-1 \
	SQS_QUEUE_URL=http://$(HOST):$(MOTO_PORT)/123456789012/fulfillment-bridge-order-change \
	AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo

.PHONY: install demo manage shell serve test test-slow screenshots lint check clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Migrate, demo data, then the web server and the task cluster; Ctrl-C stops
# every process it started (bin/demo says how).
demo: install
	@$(DEMO_ENV) $(PY) bin/demo --host $(HOST) --port $(PORT)

# Any management command with the demo's settings, next to a running `make demo`:
#   make manage ARGS="sandbox_orders --seller A1DEMOSELLER01 --count 5"
manage: install
	@$(DEMO_ENV) $(PY) manage.py $(ARGS)

# A Django shell with the demo's settings.
shell: install
	@$(DEMO_ENV) $(PY) manage.py shell

# `make serve`: the production start on this machine, settings from the
# environment or .env (DEBUG off, PostgreSQL, Redis; see README "Production").
# Migrations and schedules once (bin/release), then gunicorn (bin/web) and the task cluster
# (bin/worker), each in its own process group: Ctrl-C stops gunicorn gracefully
# (TERM) and the cluster after its running tasks (INT). The ORDER_CHANGE
# notification consumer (bin/notifications) is the third process; it exits at once
# when SQS_QUEUE_URL is not set (orders then arrive by the scheduled download).
serve: install
	bin/release
	@echo "Starting gunicorn, the task cluster and the notification consumer; Ctrl-C stops them."
	@bash -c 'set -m; bin/worker & q=$$!; bin/web & w=$$!; bin/notifications & n=$$!; \
		trap "kill -TERM $$w $$n 2>/dev/null; kill -INT $$q 2>/dev/null; wait" INT TERM; \
		wait'

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: install
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

# The browser tests again, saving docs/dashboard.png, docs/order-timeline.png,
# docs/orders-list.png and docs/held-push.png.
screenshots: install
	E2E_SCREENSHOTS=1 $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

# Style, migration drift, and the architecture's import contracts (.importlinter).
lint: install
	$(PY) -m ruff check .
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles media
