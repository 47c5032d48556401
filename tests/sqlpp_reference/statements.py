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


# The README's catalog examples for window functions and recursive WITH (paste as written).
RANK_EXAMPLE = """SELECT m.name, m.version, m.metadata.metrics.accuracy,
       RANK() OVER (PARTITION BY m.name ORDER BY m.metadata.metrics.accuracy DESC) AS accuracy_rank
FROM models m
WHERE m.metadata.metrics.accuracy IS VALUED
ORDER BY m.name, accuracy_rank"""
LINEAGE_EXAMPLE = """WITH RECURSIVE chain AS (
  SELECT m.version, m.lineage.parent, 0 AS depth FROM models m
  WHERE m.name = $name AND m.version = $version
  UNION
  SELECT p.version, p.lineage.parent, chain.depth + 1 AS depth
  FROM chain JOIN models p ON p.name = $name AND p.version = chain.parent
)
SELECT chain.version, chain.parent, chain.depth FROM chain ORDER BY chain.depth"""
LINEAGE_PARAMS = {"name": "breast-cancer-online", "version": 6}
