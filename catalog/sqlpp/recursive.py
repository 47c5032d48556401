"""WITH RECURSIVE: the anchor's rows, then the step run on the previous level's new rows.

As Couchbase runs it: UNION drops rows already produced (and stops when a level adds none),
UNION ALL keeps them; ``CYCLE expr, ... RESTRICT`` drops a row whose CYCLE values were seen
before; ``OPTIONS {"levels": n, "documents": n}`` caps the number of recursion levels and
of rows. The statement's deadline bounds a recursion that never ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from catalog.sqlpp.errors import SqlppError, SqlppTimeout
from catalog.sqlpp.scope import DEFAULT, Context
from catalog.sqlpp.values import hkey, is_num

Env = dict
Run = Callable[[Env], list[Any]]
OPTIONS = ("levels", "documents")


class RecursivePlan:
    """Evaluate one WITH RECURSIVE term for an outer environment."""

    def __init__(self, name: str, anchor: Run, step: Run, union_all: bool,
                 cycle: list[Callable[[Env], Any]], options: Callable[[Env], Any] | None,
                 ctx: Context) -> None:  # fmt: skip
        self.name, self.anchor, self.step = name, anchor, step
        self.union_all, self.cycle, self.options, self.ctx = union_all, cycle, options, ctx

    def _limits(self, env: Env) -> tuple[int | None, int | None]:
        if self.options is None:
            return None, None
        opts = self.options(env)
        if not isinstance(opts, dict):
            raise SqlppError("OPTIONS of a recursive WITH must be an object")
        for k in opts:
            if k not in OPTIONS:
                raise SqlppError(f"Invalid config option {k}")
        out = []
        for k in OPTIONS:
            v = opts.get(k)
            if v is not None and (not is_num(v) or v < 0):
                raise SqlppError(f"OPTIONS {k} must be a non-negative number")
            out.append(None if v is None else int(v))
        return out[0], out[1]

    def run(self, env: Env) -> list[Any]:
        levels, documents = self._limits(env)
        seen: set[Any] = set()
        cycles: set[Any] = set()
        result: list[Any] = []
        work = self._keep(self.anchor(env), seen, cycles, result, documents)
        level = 0
        while work and (documents is None or len(result) < documents):
            if levels is not None and level >= levels:
                break
            level += 1
            deadline = self.ctx.deadline
            if deadline is not None and time.monotonic() > deadline:
                raise SqlppTimeout("query timed out (deadline passed) in a recursive WITH")
            e = dict(env)
            e[self.name] = work
            work = self._keep(self.step(e), seen, cycles, result, documents)
        return result

    def _keep(self, rows: list[Any], seen: set[Any], cycles: set[Any], result: list[Any],
              documents: int | None) -> list[Any]:  # fmt: skip
        new = []
        for r in rows:
            if documents is not None and len(result) >= documents:
                break
            if not self.union_all:
                k = hkey(r)
                if k in seen:
                    continue
                seen.add(k)
            if self.cycle:
                row_env = {DEFAULT: r}
                if isinstance(r, dict):
                    row_env.update(r)
                ck = hkey([f(row_env) for f in self.cycle])
                if ck in cycles:
                    continue
                cycles.add(ck)
            new.append(r)
            result.append(r)
        return new
