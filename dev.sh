#!/usr/bin/env bash
# The two quick-start commands:
#   ./dev.sh serve   set up, create a demo catalog, serve it on http://127.0.0.1:8000
#   ./dev.sh test    set up, run every test
#   ./dev.sh fuzz    random-seed exploration (SQL++ against cbq-engine, hypothesis fuzzers)
# and for the Couchbase backend:
#   ./dev.sh test-couchbase   its tests only, on gocaves (../shared/caves), or on the cluster
#                             named by COUCHBASE_CONNSTR; the tests start and stop gocaves
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  local stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

case "${1:-}" in
  serve)
    setup
    "$VENV/bin/python" manage.py migrate --noinput -v 0
    "$VENV/bin/python" manage.py catalog init
    "$VENV/bin/python" manage.py catalog demo
    exec "$VENV/bin/python" manage.py runserver "${ADDR:-127.0.0.1:8000}"
    ;;
  test)
    setup
    shift
    exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" "$@"
    ;;
  test-couchbase)
    setup
    shift
    exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" -rs \
      tests/store/test_store_couchbase.py tests/couchbase "$@"
    ;;
  fuzz)
    # Random exploration: ./dev.sh fuzz [MINUTES]. The SQL++ corpus against cbq-engine with
    # random seeds (every difference appended to var/fuzz/sqlpp-differences.py as a ready
    # regression case), then the hypothesis fuzz tests with random seeds (profile "fuzz").
    setup
    minutes=${2:-10}
    mkdir -p var/fuzz
    "$VENV/bin/python" -m tests.sqlpp_reference.run --minutes "$minutes" \
      --out var/fuzz/sqlpp-differences.py || true
    HYPOTHESIS_PROFILE=fuzz exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" -m fuzz \
      --hypothesis-show-statistics tests/sqlpp/test_fuzz_sqlpp.py tests/web/test_fuzz_api.py \
      tests/onnxdoc/test_fuzz_onnxdoc.py
    ;;
  mutate)
    # Mutation testing of the security and wiring modules ([tool.mutmut] in pyproject.toml);
    # optional arguments select mutants by name, e.g. 'catalog.web.permissions*'.
    setup
    shift
    rm -rf mutants
    "$VENV/bin/mutmut" run "$@" || true
    exec "$VENV/bin/mutmut" results
    ;;
  mutate-urls)
    # The URL configuration, which mutmut cannot mutate (module-level data): each route and
    # error handler deleted in turn from a copy of the project, the route tests run on it.
    setup
    shift
    exec "$VENV/bin/python" -m tests.web.mutate_urls "$@"
    ;;
  *)
    echo "usage: ./dev.sh serve | ./dev.sh test [pytest args] | ./dev.sh test-couchbase" \
      "| ./dev.sh fuzz [MINUTES] | ./dev.sh mutate [mutant glob] | ./dev.sh mutate-urls" >&2
    exit 2
    ;;
esac
