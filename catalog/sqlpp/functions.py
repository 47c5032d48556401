"""The function library: imports every family so that FUNCTIONS is complete."""

from __future__ import annotations

from catalog.sqlpp import (  # noqa: F401  (imported for their registrations)
    functions_array,
    functions_date,
    functions_date_convert,
    functions_json,
    functions_number,
    functions_object,
    functions_prefix,
    functions_string,
    functions_timeseries,
    functions_type,
)
from catalog.sqlpp.aggregates import AGGREGATES
from catalog.sqlpp.functions_string import like_regex
from catalog.sqlpp.registry import FUNCTIONS

__all__ = ["AGGREGATES", "FUNCTIONS", "like_regex"]
