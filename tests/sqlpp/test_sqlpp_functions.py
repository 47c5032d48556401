"""The SQL++ function library: one test per family, with MISSING/NULL behaviour."""

from __future__ import annotations

import math

import pytest

from catalog.sqlpp import execute


def one(expr: str):
    """Return the value of one expression."""
    (row,) = execute(f"SELECT ({expr}) AS v")
    return row.get("v", "MISSING")


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("LOWER('AbC')", "abc"), ("UPPER('abc')", "ABC"), ("LENGTH('héllo')", 6),
        ("MB_LENGTH('héllo')", 5), ("SUBSTR('abcdef', 2, 3)", "cde"), ("SUBSTR1('abcdef', 2)", "bcdef"),
        ("POSITION('abcabc', 'c')", 2), ("POSITION1('abc', 'c')", 3), ("CONTAINS('abc', 'bc')", True),
        ("TRIM('  a  ')", "a"), ("LTRIM('xxa', 'x')", "a"), ("RTRIM('axx', 'x')", "a"),
        ("REPLACE('aaa', 'a', 'b', 2)", "bba"), ("SPLIT('a,b', ',')", ["a", "b"]),
        ("REPEAT('ab', 3)", "ababab"), ("REVERSE('abc')", "cba"), ("INITCAP('hello world')", "Hello World"),
        ("LPAD('7', 3, '0')", "007"), ("RPAD('7', 3, '-')", "7--"), ("CONCAT('a', 'b', 'c')", "abc"),
        ("REGEXP_CONTAINS('abc123', '[0-9]+')", True), ("REGEXP_LIKE('abc', 'a.c')", True),
        ("REGEXP_REPLACE('a1b2', '[0-9]', '#')", "a#b#"), ("REGEXP_POSITION('xxab', 'ab')", 2),
        ("LOWER(1)", None), ("LOWER(NULL)", None), ("LOWER(MISSING)", "MISSING"),
    ],
)  # fmt: skip
def test_string_functions(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("ARRAY_APPEND([1], 2, 3)", [1, 2, 3]), ("ARRAY_PREPEND(0, [1])", [0, 1]),
        ("ARRAY_CONCAT([1], [2], [3])", [1, 2, 3]), ("ARRAY_CONTAINS([1, 'a'], 'a')", True),
        ("ARRAY_COUNT([1, null, 2])", 2), ("ARRAY_DISTINCT([1, 1.0, 2])", [1, 2]),
        ("ARRAY_FLATTEN([1, [2, [3]]], 1)", [1, 2, [3]]), ("ARRAY_INSERT([1, 3], 1, 2)", [1, 2, 3]),
        ("ARRAY_INTERSECT([1, 2, 3], [2, 3, 4])", [2, 3]), ("ARRAY_LENGTH([1, 2])", 2),
        ("ARRAY_MAX([1, 'a', null])", "a"), ("ARRAY_MIN([3, 1, null])", 1),
        ("ARRAY_POSITION([1, 2], 2)", 1), ("ARRAY_PUT([1], 1, 2)", [1, 2]),
        ("ARRAY_RANGE(0, 6, 2)", [0, 2, 4]), ("ARRAY_REMOVE([1, 2, 1], 1)", [2]),
        ("ARRAY_REPEAT('x', 2)", ["x", "x"]), ("ARRAY_REPLACE([1, 2, 1], 1, 9)", [9, 2, 9]),
        ("ARRAY_REVERSE([1, 2])", [2, 1]), ("ARRAY_SORT([3, 'a', null, 1])", [None, 1, 3, "a"]),
        ("ARRAY_SUM([1, 2, 'x'])", 3), ("ARRAY_AVG([1, 2])", 1.5), ("ARRAY_UNION([1], [1, 2])", [1, 2]),
        ("ARRAY_EXCEPT([1, 2, 3], [2])", [1, 3]), ("ARRAY_IFNULL([null, 2])", 2),
        ("ARRAY_LENGTH('x')", None), ("ARRAY_LENGTH(MISSING)", "MISSING"),
    ],
)  # fmt: skip
def test_array_functions(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("ABS(-2)", 2), ("CEIL(1.2)", 2), ("FLOOR(1.8)", 1), ("ROUND(2.567, 2)", 2.57),
        ("ROUND(-1.5)", -2), ("TRUNC(2.567, 1)", 2.5), ("POWER(2, 10)", 1024), ("SQRT(16)", 4),
        ("SIGN(-3)", -1), ("MOD(7, 3)", 1), ("IDIV(7, 2)", 3), ("GREATEST(1, 5, null)", 5),
        ("LEAST(3, 'a', 1)", 1), ("BITAND(6, 3)", 2), ("BITOR(4, 1)", 5), ("BITSHIFT(1, 3)", 8),
        ("ABS('x')", None), ("ABS(MISSING)", "MISSING"), ("IFINF(POSINF(), 3)", 3),
    ],
)  # fmt: skip
def test_number_functions(expr, want):
    assert one(expr) == want


def test_trigonometry_and_constants():
    assert one("PI()") == pytest.approx(math.pi)
    assert one("COS(0)") == 1.0
    assert one("LN(E())") == pytest.approx(1.0)
    assert one("LOG(100)") == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("OBJECT_NAMES({'b': 1, 'a': 2})", ["a", "b"]), ("OBJECT_VALUES({'b': 1, 'a': 2})", [2, 1]),
        ("OBJECT_LENGTH({'a': 1})", 1), ("OBJECT_PAIRS({'a': 1})", [{"name": "a", "val": 1}]),
        ("OBJECT_ADD({'a': 1}, 'b', 2)", {"a": 1, "b": 2}), ("OBJECT_PUT({'a': 1}, 'a', 3)", {"a": 3}),
        ("OBJECT_REMOVE({'a': 1, 'b': 2}, 'a')", {"b": 2}),
        ("OBJECT_RENAME({'a': 1}, 'a', 'z')", {"z": 1}), ("OBJECT_UNWRAP({'a': 7})", 7),
        ("OBJECT_CONCAT({'a': 1}, {'b': 2})", {"a": 1, "b": 2}), ("OBJECT_LENGTH([])", None),
    ],
)  # fmt: skip
def test_object_functions(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("IS_ARRAY([])", True), ("IS_STRING(1)", False), ("IS_NUMBER(1.5)", True),
        ("IS_OBJECT({})", True), ("IS_BOOLEAN(false)", True), ("IS_ATOM([])", False),
        ("IS_STRING(NULL)", None), ("TYPE([])", "array"), ("TYPE(MISSING)", "missing"),
        ("TYPE(null)", "null"), ("TONUMBER('12')", 12), ("TONUMBER('1.5')", 1.5),
        ("TONUMBER('x')", None), ("TONUMBER(true)", 1), ("TOSTRING(1.0)", "1"),
        ("TOSTRING(true)", "true"), ("TOSTRING([1, 2])", None), ("TOARRAY(1)", [1]),
        ("TOBOOLEAN(0)", False), ("TOBOOLEAN('')", False), ("TOBOOLEAN('yes')", True),
        ("TOOBJECT(1)", {}), ("TOATOM([5])", 5),
    ],
)  # fmt: skip
def test_type_functions(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("IFMISSING(MISSING, null, 2)", None), ("IFNULL(null, MISSING, 2)", "MISSING"),
        ("IFMISSINGORNULL(MISSING, null, 3)", 3), ("COALESCE(null, 4)", 4),
        ("NULLIF(1, 1)", None), ("NULLIF(1, 2)", 1), ("MISSINGIF(1, 1)", "MISSING"),
        ("NVL(null, 'd')", "d"), ("NVL2(1, 'y', 'n')", "y"), ("NVL2(MISSING, 'y', 'n')", "n"),
        ("DECODE(2, 1, 'one', 2, 'two', 'other')", "two"), ("DECODE(9, 1, 'one', 'other')", "other"),
    ],
)  # fmt: skip
def test_conditional_functions_for_unknowns(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("JSON_DECODE('{\"a\": [1]}')", {"a": [1]}), ("JSON_ENCODE({'b': 1, 'a': 'x'})", '{"a":"x","b":1}'),
        ("ENCODED_SIZE('ab')", 4), ("POLY_LENGTH([1, 2])", 2), ("BASE64_ENCODE('a')", "ImEi"),
        ("BASE64_DECODE('ImEi')", "a"), ("HASHBYTES('abc', 'md5')", "900150983cd24fb0d6963f7d28e17f72"),
        ("ARRAY_SORT(TOKENS('Hello, hello world'))", ["Hello", "hello", "world"]),
        ("LENGTH(UUID())", 36),
    ],
)  # fmt: skip
def test_json_and_misc_functions(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("DATE_ADD_STR('2021-01-31', 1, 'calendar_month')", "2021-02-28"),
        ("DATE_ADD_STR('2021-01-31', 1, 'month')", "2021-03-03"),
        ("DATE_ADD_STR('2021-01-01T10:00:00Z', 90, 'minute')", "2021-01-01T11:30:00Z"),
        ("DATE_DIFF_STR('2021-03-01', '2020-12-31', 'month')", 3),
        ("DATE_DIFF_STR('2021-01-02 00:00:01', '2021-01-01 23:59:59', 'day')", 1),
        ("DATE_PART_STR('2021-05-13T10:20:30Z', 'hour')", 10),
        ("DATE_TRUNC_STR('2021-05-13T10:20:30Z', 'month')", "2021-05-01T00:00:00Z"),
        ("DATE_RANGE_STR('2021-01-01', '2021-01-04', 'day')", ["2021-01-01", "2021-01-02", "2021-01-03"]),
        ("STR_TO_MILLIS('1970-01-01T00:00:01Z')", 1000), ("MILLIS_TO_UTC(0)", "1970-01-01T00:00:00Z"),
        ("MILLIS_TO_STR(86400000, '2006-01-02')", "1970-01-02"),
        ("MILLIS_TO_UTC(0, '%Y/%m/%d')", "1970/01/01"), ("WEEKDAY_STR('2024-01-01')", "Monday"),
        ("DATE_ADD_MILLIS(0, 1, 'day')", 86400000), ("DATE_ADD_STR('nope', 1, 'day')", None),
        ("STR_TO_UTC('2024-01-01T02:00:00+02:00')", "2024-01-01T00:00:00Z"),
        ("DURATION_TO_STR(1500000000)", "1.5s"), ("STR_TO_DURATION('1m')", 60_000_000_000),
    ],
)  # fmt: skip
def test_date_functions(expr, want):
    assert one(expr) == want


def test_now_functions_return_current_time():
    assert abs(one("NOW_MILLIS()") - one("STR_TO_MILLIS(NOW_STR())")) < 5000


def test_round_of_huge_and_tiny_numbers_does_not_overflow():
    from catalog.sqlpp import execute

    class Empty:
        def keyspace_exists(self, keyspace):
            return False

    rows = execute(
        "SELECT RAW [ROUND(1.5e308), ROUND(1.5e308, -2), ROUND(5e-324, 3), "
        "ROUND(2.5), ROUND(-1.25, 1)]",
        source=Empty(),
    )
    assert rows == [[1.5e308, 1.5e308, 0, 2, -1.2]]


def test_array_symdiff_keeps_elements_in_exactly_one_array_and_symdiffn_an_odd_number():
    from catalog.sqlpp import execute

    class Empty:
        def keyspace_exists(self, keyspace):
            return False

    rows = execute(
        "SELECT RAW [ARRAY_SYMDIFF([1, 2, 2, 3], [2, 4], [3, 5]),"
        " ARRAY_SYMDIFFN([1, 2, 3], [2, 4], [2, 3]), ARRAY_SYMDIFF([1], MISSING) IS MISSING,"
        " ARRAY_SYMDIFF([1], 'x')]",
        source=Empty(),
    )
    assert rows == [[[1, 4, 5], [1, 2, 4], True, None]]
