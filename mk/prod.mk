# The production profile and the benchmark (README.md: "Production profile", "Benchmark against stock Rasa").
# Included by the Makefile (include mk/*.mk).
.PHONY: run-prod stop-prod bench

## run-prod: PostgreSQL, Redis, nginx (Debian packages), 2 Rasa servers, action and web servers, in the background
run-prod: setup train
	scripts/prod/start.sh

## stop-prod: stop everything run-prod started
stop-prod:
	scripts/prod/stop.sh

## bench: latency/throughput/memory/training time of the assistant against a stock `rasa init` bot (a report)
bench: setup train
	scripts/system-deps.sh postgresql redis-server nginx
	command -v py-spy >/dev/null || python3 -m pip install --quiet py-spy || true
	$(PY) -m bench --profile 20
