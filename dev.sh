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
    # Random exploration: ./dev.sh fuzz [MINUTES] [HYPOTHESIS_MINUTES]. The SQL++ corpus
    # against cbq-engine with random seeds for MINUTES (every difference appended to
    # var/fuzz/sqlpp-differences.py as a ready regression case), then rounds of the hypothesis
    # fuzz tests (profile "fuzz"), each with a new random seed, for HYPOTHESIS_MINUTES
    # (default: a third of MINUTES); a failing round's output is kept in
    # var/fuzz/hypothesis-SEED.log (rerun it with --hypothesis-seed=SEED).
    setup
    minutes=${2:-10}
    hminutes=${3:-$(( (minutes + 2) / 3 ))}
    mkdir -p var/fuzz
    "$VENV/bin/python" -m tests.sqlpp_reference.run --minutes "$minutes" \
      --out var/fuzz/sqlpp-differences.py || true
    end=$(( $(date +%s) + hminutes * 60 ))
    rounds=0; failed=0
    while [ "$rounds" -eq 0 ] || [ "$(date +%s)" -lt "$end" ]; do
      seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
      rounds=$((rounds + 1))
      if ! HYPOTHESIS_PROFILE=fuzz "$VENV/bin/python" -m pytest -q -n "${TEST_WORKERS:-2}" \
          -m fuzz -p no:cacheprovider --hypothesis-seed="$seed" --hypothesis-show-statistics \
          tests/sqlpp/test_fuzz_sqlpp.py tests/web/test_fuzz_api.py \
          tests/onnxdoc/test_fuzz_onnxdoc.py > "var/fuzz/hypothesis-$seed.log" 2>&1; then
        failed=$((failed + 1))
        echo "hypothesis round $rounds (seed $seed) FAILED: var/fuzz/hypothesis-$seed.log"
      else
        echo "hypothesis round $rounds (seed $seed): $(tail -1 "var/fuzz/hypothesis-$seed.log")"
        rm -f "var/fuzz/hypothesis-$seed.log"
      fi
    done
    echo "hypothesis: $rounds rounds, $failed failed"
    [ "$failed" -eq 0 ]
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
      "| ./dev.sh fuzz [MINUTES [HYPOTHESIS_MINUTES]] | ./dev.sh mutate [mutant glob] | ./dev.sh mutate-urls" >&2
    exit 2
    ;;
esac
