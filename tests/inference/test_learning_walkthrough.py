"""The online-learning walkthrough (README.md, "Walkthrough: the iris SVM that keeps learning"), run as written.

Its ``python`` and ``sh`` blocks run in order in a fresh directory on a fresh embedded
store: consecutive ``sh`` blocks share one bash session (the server and the client loop
they start live across them), each ``python`` block runs in the project's Python. The test
adds only the environment: the store, a free port, and a trap that stops what the blocks
left running if one fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION = "### Walkthrough: the iris SVM that keeps learning"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.S | re.M)
# Seconds the whole walkthrough may take (Django starts once per command).
TIMEOUT_S = 600


def blocks() -> list[tuple[str, str]]:
    """Return the walkthrough's code blocks as (language, text), consecutive sh joined."""
    out: list[tuple[str, str]] = []
    readme = README.read_text()
    start = readme.index(SECTION)
    walkthrough = readme[start : readme.index("\n## ", start)]
    for lang, text in BLOCK.findall(walkthrough):
        if lang == "sh" and out and out[-1][0] == "sh":
            out[-1] = ("sh", out[-1][1] + "\n" + text)
        else:
            out.append((lang, text))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="the walkthrough uses curl")
def test_the_walkthrough_runs_as_written_on_a_fresh_store(tmp_path):
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "CATALOG_STORE": f"embedded://{tmp_path / 'catalog.sqlite3'}",
        "CATALOG_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(free_port()),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    outputs = []
    for lang, text in blocks():
        if lang == "python":
            cmd = [sys.executable, "-c", text]
        else:
            guard = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
            cmd = ["bash", "-c", guard + text]
        done = subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        assert done.returncode == 0, f"{lang} block failed:\n{text}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    data, shell, python = outputs
    assert "iris-svm version 1: started; 30 rows, 30 seen, accuracy" in shell
    for version in (2, 3, 4):
        assert f"iris-svm version {version}: 30 rows" in shell
    assert '"model_name": "iris-svm"' in shell or '"model_name":"iris-svm"' in shell
    answers = (tmp_path / "answers.log").read_text().split()
    assert answers and set(answers) == {"200"}, f"{len(answers)} answers: {set(answers)}"
    assert '"production": ' in shell and '"steps": [' in shell
    assert "[3,4]" in shell.replace(" ", "").replace("\n", "")
    lines = python.strip().splitlines()
    assert lines[0].startswith("1 {'accuracy': ") and lines[-1] == "[3, 4]"
