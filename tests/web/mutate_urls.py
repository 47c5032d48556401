"""Mutation testing of the URL configuration, which mutmut cannot do (it mutates code inside
functions only, and a URL map is module-level data).

Each mutant deletes one entry of a ``urlpatterns`` list, or one ``handlerNNN`` assignment, in
a copy of the project; the tests then run on that copy. A mutant is killed when they fail.

    python -m tests.web.mutate_urls [--tests TEST ...]   (or ./dev.sh mutate-urls)

prints one line per mutant and the score; exits 1 if any mutant survived.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL_MODULES = ["catalog/shell/urls.py", "catalog/web/serving/urls.py"]
TESTS = ["tests/web/test_routes.py", "tests/web/test_web_errors.py"]
COPY = ["catalog", "inference", "tests", "templates", "static", "manage.py", "pyproject.toml"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "var", "mutants")


@dataclass
class Mutant:
    """Delete lines ``first``..``last`` (1-based, inclusive) of ``module``."""

    module: str
    first: int
    last: int
    what: str


def mutants_of(module: str) -> list[Mutant]:
    """Return one mutant per urlpatterns entry and per handler assignment of ``module``."""
    source = (ROOT / module).read_text(encoding="utf-8")
    found: list[Mutant] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id.startswith("handler"):
            found.append(Mutant(module, node.lineno, node.end_lineno or node.lineno, target.id))
        elif target.id == "urlpatterns" and isinstance(node.value, ast.List):
            for entry in node.value.elts:
                what = ast.get_source_segment(source, entry) or "?"
                what = " ".join(what.split())[:90]
                found.append(Mutant(module, entry.lineno, entry.end_lineno or entry.lineno, what))
    return found


def apply(copy: Path, mutant: Mutant, original: str) -> None:
    """Write ``mutant.module`` into ``copy`` with the mutant's lines deleted."""
    lines = original.splitlines(keepends=True)
    mutated = "".join(lines[: mutant.first - 1] + lines[mutant.last :])
    compile(mutated, mutant.module, "exec")
    (copy / mutant.module).write_text(mutated, encoding="utf-8")


def run_tests(copy: Path, tests: list[str], timeout_s: int) -> int:
    """Run ``tests`` in ``copy``; return pytest's exit code (-1 on timeout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(copy)
    command = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-n", "0"]
    command += ["-p", "no:cacheprovider"]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return -1
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", nargs="+", default=TESTS, help="test files to run per mutant")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per mutant")
    args = parser.parse_args(argv)
    mutants = [m for module in URL_MODULES for m in mutants_of(module)]
    survived: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="mutate-urls-") as tmp:
        copy = Path(tmp)
        for name in COPY:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=IGNORE)
            elif source.exists():
                shutil.copy2(source, copy / name)
        if run_tests(copy, args.tests, args.timeout) != 0:
            print("the tests fail without any mutant: fix them first", file=sys.stderr)
            return 2
        for number, mutant in enumerate(mutants, 1):
            original = (copy / mutant.module).read_text(encoding="utf-8")
            apply(copy, mutant, original)
            started = time.monotonic()
            code = run_tests(copy, args.tests, args.timeout)
            (copy / mutant.module).write_text(original, encoding="utf-8")
            verdict = "survived" if code == 0 else "killed" if code == 1 else f"killed ({code})"
            if code == 0:
                survived.append(mutant)
            elapsed = time.monotonic() - started
            print(
                f"{number:3d} {verdict:9s} {elapsed:5.1f}s {mutant.module}:{mutant.first} "
                f"{mutant.what}",
                flush=True,
            )
    killed = len(mutants) - len(survived)
    print(
        f"URL configuration: {len(mutants)} mutants, {killed} killed, "
        f"{len(survived)} survived ({100 * killed / max(len(mutants), 1):.0f}%)"
    )
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
