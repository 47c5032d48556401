"""``catalog learn``: start a learning model, feed it a batch, or show its status.

catalog learn start NAME --estimator SVC [--params JSON] --label COLUMN FIRST.csv
                    [--holdout 0.2 | --holdout HOLDOUT.csv] [--scaler standard]
                    [--metric accuracy] [--policy no-worse] [--window N]
catalog learn NAME BATCH.csv [--label COLUMN] [--batch-id ID] [--policy ...]
catalog learn status NAME
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.domain.registry import get_registry

USAGE = (
    "catalog learn start NAME --estimator EST --label COLUMN FIRST.csv"
    " | catalog learn NAME BATCH.csv | catalog learn status NAME"
)


class IntermixedParser(CommandParser):
    """A parser that takes positionals and options in any order (``start N --x 1 f.csv``)."""

    _nested = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._nested:
            return super().parse_known_args(args, namespace)
        self._nested = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._nested = False


def add_learn_arguments(p: CommandParser) -> None:
    """Declare the options of ``catalog learn`` on its subparser."""
    from inference.estimators import ESTIMATORS

    p.__class__ = IntermixedParser
    p.add_argument(
        "words",
        nargs="+",
        metavar="WORD",
        help="start NAME FIRST.csv | status NAME | NAME BATCH.csv",
    )
    p.add_argument("--label", help="the label column (learn NAME: default, the one at start)")
    p.add_argument("--batch-id", help="default: file name + hash of its content")
    p.add_argument("--policy", help="always, never or no-worse (the default)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--estimator", help="start: one of " + ", ".join(ESTIMATORS))
    p.add_argument("--params", help="start: hyperparameters as JSON, e.g. '{\"C\": 1.0}'")
    p.add_argument("--scaler", choices=["none", "standard"], help="start: preprocessing")
    p.add_argument("--holdout", help="start: a fraction of FIRST.csv (0.2) or a holdout CSV")
    p.add_argument("--metric", help="start: accuracy, r2, rmse, mae or inertia")
    p.add_argument("--window", help="start, refit estimators: train on the last N rows")
    p.add_argument("--description", help="start: the versions' description")


def run_learn(command: BaseCommand, opts: dict[str, Any]) -> None:
    """Carry out ``catalog learn ...`` (errors as CommandError, one line)."""
    words = opts["words"]
    if words[0] == "start":
        if len(words) != 3:
            raise CommandError("usage: catalog learn start NAME --estimator EST ... FIRST.csv")
        _start(command, words[1], Path(words[2]), opts)
    elif words[0] == "status" and len(words) == 2:
        _status(command, words[1], opts)
    elif len(words) == 2:
        _step(command, words[0], words[1], opts)
    else:
        raise CommandError(f"usage: {USAGE}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CommandError(f"cannot read {path}: {e.strerror or e}") from None


def _start(command: BaseCommand, name: str, path: Path, opts: dict[str, Any]) -> None:
    from inference.estimators import spec_from_mapping
    from inference.learning_start import start_from_csv

    holdout = opts["holdout"]
    holdout_csv = None
    fraction = None
    if holdout:
        try:
            fraction = float(holdout)
        except ValueError:
            holdout_csv = _read(Path(holdout))
    spec = spec_from_mapping(
        {
            "estimator": opts["estimator"],
            "params": opts["params"],
            "scaler": opts["scaler"],
            "label": opts["label"],
            "holdout": fraction,
            "metric": opts["metric"],
            "policy": opts["policy"],
            "window": opts["window"],
        }
    )
    result = start_from_csv(
        get_registry(),
        name,
        spec,
        _read(path),
        holdout_csv=holdout_csv,
        batch_id=opts["batch_id"] or f"{path.name}:start",
        description=opts["description"],
        user="cli",
    )
    _print_step(command, result, opts, started=True)


def _step(command: BaseCommand, name: str, path: str, opts: dict[str, Any]) -> None:
    from inference.learning import learn_from_csv

    result = learn_from_csv(
        get_registry(),
        name,
        path,
        opts["label"],
        batch_id=opts["batch_id"],
        policy=opts["policy"],
        user="cli",
    )
    _print_step(command, result, opts)


def _print_step(
    command: BaseCommand, result: Any, opts: dict[str, Any], started: bool = False
) -> None:
    if opts["json"]:
        command.stdout.write(json.dumps(result.to_dict()))
        return
    moved = (
        f"production -> version {result.version}"
        if result.promoted
        else f"production stays at {result.production} ({result.reason})"
    )
    what = "started; " if started else ""
    metric = ", ".join(f"{k} {v:.4g}" for k, v in result.metric.items()) or "no metric"
    command.stdout.write(
        f"{result.name} version {result.version}: {what}{result.batch_size} rows,"
        f" {result.rows_seen} seen, {metric}; {moved}"
    )


def _status(command: BaseCommand, name: str, opts: dict[str, Any]) -> None:
    from inference.learning_start import learning_status

    status = learning_status(get_registry(), name)
    if opts["json"]:
        command.stdout.write(json.dumps(status, indent=2))
        return
    spec = status.get("spec") or {}
    params = json.dumps(spec.get("params") or {})
    window = f", window {status['window']} rows" if status.get("window") else ""
    lines = [
        f"{name}: {status['estimator']} ({status['mode']}, {status['task']})"
        f" params {params}, scaler {spec.get('scaler', 'none')}{window}",
        f"  label {spec.get('label')!s}; features {', '.join(status.get('featureNames') or [])}",
        f"  generation {status['generation']}, {status['batches']} batches,"
        f" {status['rowsSeen']} rows seen; metric {status['metric']};"
        f" policy {(status.get('policy') or {}).get('kind')}",
        f"  production: version {status['production']}; latest: version {status['latest']}",
        "  VERSION  METRIC      ROWS SEEN  BATCH",
    ]
    for s in status["steps"]:
        value = next(iter(s["metric"].values()), None)
        shown = "-" if value is None else f"{value:.4g}"
        marks = f"  [{', '.join(s['aliases'])}]" if s["aliases"] else ""
        lines.append(f"  {s['version']:<8} {shown:<11} {s['rowsSeen']!s:<10} {s['batchId']}{marks}")
    command.stdout.write("\n".join(lines))
