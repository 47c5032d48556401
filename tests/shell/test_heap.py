"""A worker freezes the objects it loaded at startup (``catalog.shell.heap``): the garbage
collector's full collections then walk only what requests made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_wsgi_application_loads_every_view_and_freezes_the_startup_heap(tmp_path):
    code = (
        "import gc, sys\n"
        "import catalog.shell.wsgi\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), 'catalog.web.versions' in sys.modules)\n"
    )
    env = os.environ | {"CATALOG_STORE": f"embedded://{tmp_path / 'c.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    frozen, tracked, views_loaded = done.stdout.split()
    assert views_loaded == "True"  # the URL configuration was loaded before the freeze
    assert int(frozen) > 50_000  # Django, the catalog, onnxruntime, the converters
    assert int(tracked) < int(frozen) // 20  # next to nothing left for the collector to walk
