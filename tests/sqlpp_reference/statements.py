"""The catalog's own SQL++ statements: README examples, workbench examples, named queries."""

from __future__ import annotations

import re
from typing import Any

from .cbq import REPO

# Parameter values for the statements that take some (a name and a task of the demo catalog).
PARAMS = {"name": "iris-svc", "task": "classification"}


def readme_statements() -> list[str]:
    """Every ```sql block of the README, as written."""
    return re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def params_for(statement: str) -> dict[str, Any] | None:
    """The named parameters a statement uses, from PARAMS."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", statement))
    return {n: PARAMS[n] for n in names if n in PARAMS} or None
