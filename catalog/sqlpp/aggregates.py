"""Aggregate functions: accumulators for COUNT, SUM, AVG, MIN, MAX, ARRAY_AGG, MEDIAN, ..."""

from __future__ import annotations

import math
from typing import Any

from catalog.sqlpp.values import MISSING, T_NULL, collate, collate_key, hkey, is_num, rank

AGGREGATES = frozenset(
    [
        "count",
        "countn",
        "sum",
        "avg",
        "mean",
        "min",
        "max",
        "array_agg",
        "median",
        "stddev",
        "stddev_samp",
        "stddev_pop",
        "variance",
        "variance_samp",
        "variance_pop",
        "var_samp",
        "var_pop",
    ]
)


class Accumulator:
    """Collect one aggregate's inputs for one group and produce its value."""

    __slots__ = ("name", "star", "values", "seen", "distinct", "count")

    def __init__(self, name: str, distinct: bool, star: bool) -> None:
        self.name = name
        self.star = star
        self.distinct = distinct
        self.values: list[Any] = []
        self.seen: set[Any] | None = set() if distinct else None
        self.count = 0

    def add(self, v: Any) -> None:
        if self.star:
            self.count += 1
            return
        if v is MISSING:
            return
        if v is None and self.name != "array_agg":
            return
        if self.seen is not None:
            k = hkey(v)
            if k in self.seen:
                return
            self.seen.add(k)
        self.values.append(v)

    def result(self) -> Any:
        n, vals = self.name, self.values
        if self.star:
            return self.count
        if n == "count":
            return len(vals)
        if n == "array_agg":
            if self.distinct:
                vals = sorted(vals, key=collate_key)
            return vals if vals else None
        return self._value(n, vals)

    def grouped_result(self) -> Any:
        """The value of the aggregate over a GROUP BY group (or the whole input): as
        ``result``, but ARRAY_AGG's array comes sorted in collation order, as Couchbase's
        does (``ARRAY_AGG(x) FROM [3, 1, 2] x`` is [1, 2, 3]); in a window it keeps the
        frame's order."""
        if self.name == "array_agg" and not self.star and self.values:
            return sorted(self.values, key=collate_key)
        return self.result()

    def _value(self, n: str, vals: list[Any]) -> Any:
        if n in ("min", "max"):
            best: Any = None
            for v in vals:
                if rank(v) <= T_NULL:
                    continue
                if best is None or (collate(v, best) < 0) == (n == "min") and collate(v, best):
                    best = v
            return best
        nums = [v for v in vals if is_num(v)]
        if n == "countn":
            return len(nums)
        if not nums:
            return None
        if n == "sum":
            return sum(nums)
        if n in ("avg", "mean"):
            return sum(nums) / len(nums)
        if n == "median":
            s = sorted(nums, key=collate_key)
            m = len(s) // 2
            return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
        mean = sum(nums) / len(nums)
        ss = sum((x - mean) ** 2 for x in nums)
        if n in ("variance_pop", "var_pop", "stddev_pop"):
            var = ss / len(nums)
        else:
            if len(nums) == 1:
                if n.endswith("_samp"):
                    return None
                var = 0.0
            else:
                var = ss / (len(nums) - 1)
        return math.sqrt(var) if n.startswith("stddev") else var
