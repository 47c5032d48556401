#!/usr/bin/env bash
# Install MLflow (and the same scikit-learn as the project) in its own virtual environment,
# var/peers/mlflow-venv (git-ignored). MLflow is NOT a project dependency: only the peer
# benchmark (bench/peers/run.py) uses it, through subprocesses. Takes a few minutes.
#
#     bash bench/peers/setup_mlflow.sh [python3]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${1:-python3}"
VENV=var/peers/mlflow-venv
# Verified together on Python 3.11 (2026-11); scikit-learn matches the project's venv so
# both sides fit identical estimators.
MLFLOW_VERSION=3.17.2
SKLEARN_VERSION="$(.venv/bin/python -c 'import sklearn; print(sklearn.__version__)' 2>/dev/null || echo 1.9.1)"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "mlflow==$MLFLOW_VERSION" "scikit-learn==$SKLEARN_VERSION"
"$VENV/bin/python" -c 'import mlflow, sklearn; print("mlflow", mlflow.__version__, "scikit-learn", sklearn.__version__)'
