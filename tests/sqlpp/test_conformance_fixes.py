"""Regression tests for differences from Couchbase fixed in the SQL++ engine.

Every expected value is cbq-engine's answer (../shared/cbq, couchbase/query b38a563ce) to the
same expression.
"""

from __future__ import annotations

import pytest

from catalog.sqlpp import execute


def one(expr: str):
    """Return the value of one expression ("MISSING" when the field is absent)."""
    (row,) = execute(f"SELECT ({expr}) AS v")
    return row.get("v", "MISSING")


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("IFINF(MISSING, 1)", 1), ("IFINF(MISSING, MISSING)", "MISSING"),
        ("IFNAN(MISSING, NULL, 2)", None), ("IFNANORINF(MISSING, 'a')", None),
        ("IFINF(MISSING, 2.5)", 2.5), ("IFINF(NULL, 1)", None),
    ],
)  # fmt: skip
def test_conditional_number_functions_pass_over_missing(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("MILLIS_TO_STR(1e20)", None),
        ("MILLIS_TO_STR(-62167219200001)", "-0001-12-31T23:59:59.999Z"),
        ("MILLIS_TO_STR(-377705073600000)", "-9999-01-01T12:00:00Z"),
        ("MILLIS_TO_TZ(-62167219200000, 'UTC', '%F')", "0000-01-01T00:00:00Z"),
        ("MILLIS_TO_LOCAL(-1)", "1969-12-31T23:59:59.999Z"),
        ("MILLIS_TO_STR(0, 3)", None), ("MILLIS_TO_STR('x')", None),
        ("MILLIS_TO_TZ(0, 'Nowhere')", None), ("MILLIS_TO_TZ(0, '+05:30')", "1970-01-01T05:30:00+05:30"),
        ("MILLIS_TO_UTC(0, '%Z %^Z')", "UTC UTC"), ("MILLIS_TO_STR(0, '%Z|%^Z|%-Z')", "UTC|Local|Z"),
        ("MILLIS_TO_STR(0, '1111-11-11')", "1970-01-01"),
        ("MILLIS_TO_STR(1.5, '11:11:11.111111')", "00:00:00.001500"),
        ("MILLIS_TO_UTC(1463284740000, 'invalid')", "invalid"),
    ],
)  # fmt: skip
def test_millis_to_str_range_and_zones(expr, want):
    assert one(expr) == want


def test_percent_formats_write_like_couchbase():
    fmt = ("%D %T %N %n %s %^s %j %U %W %V %G %q %u %w %A %a %B %b %f %r %R %p %P %:z %::z "
           "%:::z %C %y %# %@ %^A %_5d %-m %3Y %Z %F %x %X %^Z %-Z %%")  # fmt: skip
    assert one(f"MILLIS_TO_STR(1463284740123, '{fmt}')") == (
        "2016-05-15 03:59:00 123000000 123 1463284740 1463284740123000000 136 20 19 19 2016 2 7 0 "
        "Sunday Sun May May th 03:59:00 AM 03:59 AM am +00:00 +00:00:00 +00 20 16 406467:59:00 "
        "406467:59:00.123 SUNDAY    15 5 2016 UTC 2016-05-15T03:59:00.123Z 2016-05-15 03:59:00 "
        "Local Z %"
    )
    assert one("MILLIS_TO_TZ(1463284740123, 'America/New_York', '%D %T %z %:z %Z %^Z')") == (
        "2016-05-14 23:59:00 -0400 -04:00 EDT America/New_York"
    )


def test_common_and_go_formats_write_like_couchbase():
    common = ("YYYY-MM-DD hh:mm:ss.s sss HH12 HH24 PP pp AM am MONTH Month mon DAY Day dy DY "
              "TZD TZN TZF CC YY MI SS")  # fmt: skip
    assert one(f"MILLIS_TO_STR(1463284740123, '{common}')") == (
        "2016-05-15 03:59:00.123 123000000 03 03 AM am AM am MAY May may SUNDAY Sunday sun SUN "
        "Z UTC Local 20 16 59 00"
    )
    go = "Mon Jan _2 15:04:05.000 MST 2006 -0700 Z07:00 PM 002 __2"
    assert one(f"MILLIS_TO_STR(1463284740123, '{go}')") == (
        "Sun May 15 03:59:00.123 UTC 2016 +0000 Z AM 136 136"
    )


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("STR_TO_MILLIS('01/01/2015 16:00:00-08', '02/01/2006 15:04:05-07')", 1420156800000),
        ("STR_TO_MILLIS('2015/01/01 16:00:00-08:00', 'YYYY MM DD hh:mm:ssTZD')", 1420156800000),
        ("STR_TO_MILLIS('2015/01/01T16:00:00-08:00', '%Y/%m/%dT%T%z')", 1420156800000),
        ("STR_TO_MILLIS('4pm on 1st JaN 15 in America/Los_Angeles', '%-I%P on %-d%f %^b %y in %z')",
         1420156800000),
        ("STR_TO_MILLIS('00:00:00', '%I:%M:%S')", None),
        ("STR_TO_MILLIS('00:00:00+0000', '%H:%M:%S%z')", -62167219200000),
        ("STR_TO_MILLIS('00:00:00+0000', 'HH24:MI:SSTZD')", -62167219200000),
        ("STR_TO_MILLIS('Monday 12 pm, 1 MAR Z', 'Day HH12 pm, DD MON TZD')", -62161992000000),
        ("STR_TO_MILLIS('4pm 1 JAN 15 America/Los_Angeles', 'HH12am DD MON YY TZD')", 1420156800000),
        ("STR_TO_MILLIS('2015-03-04', 'YYYY-MM-DD')", 1425427200000),
        ("STR_TO_MILLIS('15/03/04', 'YY/MM/DD')", 1425427200000),
        ("STR_TO_MILLIS('10:11', '%R')", -62167182540000),
        ("STR_TO_MILLIS('1:2:3.4', '%#')", None),
        ("STR_TO_MILLIS('1700000000', '%s')", 170000000000),
        ("STR_TO_MILLIS('2021-06-25T04:00:00.000+05:30', '%F')", 1624573800000),
        ("STR_TO_MILLIS('2021-06-25', '%D')", 1624579200000),
        ("STR_TO_MILLIS('2021-06-25', '1111-11-11')", 1624579200000),
        ("STR_TO_MILLIS('2021 176', '2006 002')", 1624579200000),
        ("STR_TO_MILLIS('Jun 25 2021 EST', 'Jan 2 2006 MST')", 1624593600000),
        ("STR_TO_MILLIS('25 GMT+3', '2 MST')", -62165156400000),
        ("STR_TO_MILLIS('-0001-01-01T00:00:00Z')", -62198755200000),
        ("STR_TO_MILLIS('2012/01/02 00:00:00Z')", 1325462400000),
    ],
)  # fmt: skip
def test_str_to_millis_with_explicit_formats(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("DATE_FORMAT_STR('Z 2023 March', 'Z07 2006 January', '%F')", "2023-03-01T00:00:00Z"),
        ("DATE_FORMAT_STR('2023 Europe/Paris', '2006 MST', '%F %Z %^Z')",
         "2023-01-01T00:00:00+01:00 CET Europe/Paris"),
        ("DATE_FORMAT_STR('2012-01-02T00:00:00Z', '%Z|%^Z')", "+0000|+0000"),
        ("DATE_FORMAT_STR('2012-01-02T00:00:00+01:00', '%Z|%^Z')", "+0100|+0100"),
        ("DATE_FORMAT_STR('2012-01-02', '%Z|%^Z')", "UTC|Local"),
        ("DATE_ADD_STR('2012/01/02 00:00:00Z', 1, 'day')", "2012/01/03 00:00:00Z"),
        ("DATE_PART_STR('2012/01/02', 'month')", 1),
        ("STR_TO_UTC('2012/01/02')", "2012/01/02"),
    ],
)  # fmt: skip
def test_date_strings_in_go_layouts(expr, want):
    assert one(expr) == want


IRREGULAR = '{"ts_data": [[1000, 1, 2], [2000, 3], [3000, 5, 6, 7], "x", [4000]], "ts_start": 1000, "ts_end": 4000}'
REGULAR = '{"ts_data": [1, [2, 3], {"a": 1}], "ts_start": 100, "ts_end": 300, "ts_interval": 100}'


@pytest.mark.parametrize(
    ("doc", "options", "want"),
    [
        (IRREGULAR, None, [{"_t": 1000, "_v0": 1, "_v1": 2}, {"_t": 2000, "_v0": 3},
                           {"_t": 3000, "_v0": 5, "_v1": 6, "_v2": 7}, {"_t": 4000}]),
        (IRREGULAR, "{'ts_ranges': [1500, 3000]}",
         [{"_t": 2000, "_v0": 3}, {"_t": 3000, "_v0": 5, "_v1": 6, "_v2": 7}]),
        (IRREGULAR, "{'ts_ranges': [5000, 6000]}", None),
        (IRREGULAR, "{'ts_project': [1, 0]}", [{"_t": 1000, "_v0": 1, "_v1": 2}, {"_t": 2000, "_v0": 3},
                                               {"_t": 3000, "_v0": 5, "_v1": 6}, {"_t": 4000}]),
        (REGULAR, "{'ts_project': 1}", [{"_t": 100}, {"_t": 200, "_v1": 3}, {"_t": 300}]),
        (REGULAR, None, [{"_t": 100, "_v0": 1}, {"_t": 200, "_v0": 2, "_v1": 3}, {"_t": 300, "_v0": {"a": 1}}]),
        (REGULAR, "{'ts_ranges': [[100, 100], [300, 400]]}", [{"_t": 100, "_v0": 1}, {"_t": 300, "_v0": {"a": 1}}]),
        (REGULAR, "{'ts_ranges': NULL}", None),
        ("{'ts_data': [1]}", None, None),
        ("{'q': [[5, 1]], 'ts_start': 1, 'ts_end': 9}", "{'ts_data': 'q'}", [{"_t": 5, "_v0": 1}]),
    ],
)  # fmt: skip
def test_timeseries_points(doc, options, want):
    args = "d" if options is None else f"d, {options}"
    (row,) = execute(f"SELECT _timeseries({args}) AS v FROM {doc} AS d")
    assert row["v"] == want


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT _timeseries({'a': 1}) v",
        "SELECT _timeseries(d.x) v FROM {'x': 1} d",
        "SELECT _timeseries(d, {'ts_data': d.x}) v FROM {'x': 1} d",
        "SELECT _timeseries(d, {'ts_ranges': [d.x, 5]}) v FROM {'x': 1} d",
    ],
)
def test_timeseries_operands_are_an_alias_and_constant_options(statement):
    from catalog.sqlpp.errors import SqlppError

    with pytest.raises(SqlppError, match="operands are invalid"):
        execute(statement)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("LIKE_PREFIX('abc%123', '\\\\')", "abc"), ("LIKE_SUFFIX('___123', '\\\\')", "123"),
        ("LIKE_STOP('abc\\u0000', '\\\\')", "abc\x00\x00"), ("LIKE_STOP('abc%', '\\\\')", "abd"),
        ("LIKE_PREFIX('a\\\\%b%c')", "a%b"), ("LIKE_PREFIX(1)", None), ("LIKE_PREFIX(MISSING, 1)", "MISSING"),
        ("LIKE_STOP('%')", []), ("LIKE_SUFFIX('%%')", ""), ("LIKE_PREFIX('a#_b_', '#')", "a_b"),
        ("REGEXP_PREFIX('abc.*123')", "abc"), ("REGEXP_SUFFIX('...123')", "123"),
        ("REGEXP_STOP('abc\\u0000')", "abc\x00\x00"), ("REGEXP_STOP('abc.*')", "abd"),
        ("REGEXP_PREFIX('^abc')", "abc"), ("REGEXP_STOP('^abc$')", "abc\x00"),
        ("REGEXP_PREFIX('ab*c')", "a"), ("REGEXP_PREFIX('ab+c')", "ab"), ("REGEXP_PREFIX('a\\\\.b')", "a.b"),
        ("REGEXP_PREFIX('(ab)c')", "abc"), ("REGEXP_PREFIX('ab|ac')", "a"), ("REGEXP_PREFIX('(?i)ab')", ""),
        ("REGEXP_PREFIX('ab{2}c')", "abbc"), ("REGEXP_PREFIX('[a]bc')", "abc"), ("REGEXP_PREFIX('ab?')", "a"),
        ("REGEXP_STOP('abc$')", "abd"), ("REGEXP_STOP('')", "\x00"), ("REGEXP_PREFIX(1)", None),
        ("REGEXP_STOP('abc|abd')", "ac"), ("REGEXP_PREFIX('(ab)*c')", ""), ("REGEXP_PREFIX('a(b|c)d')", "a"),
        ("REGEXP_PREFIX('ab{2,}c')", "abb"), ("REGEXP_PREFIX('ab{2,3}c')", "abb"),
        ("REGEXP_PREFIX('^ab|c')", ""), ("REGEXP_PREFIX('a[bc]')", "a"), ("REGEXP_PREFIX('x(?:yz)w')", "xyzw"),
        ("REGEXP_PREFIX('ab{0}c')", "ac"),
    ],
)  # fmt: skip
def test_like_and_regexp_literal_prefixes(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("MASK('Some text to mask')", "********"),
        ("MASK('Some text to mask', {'mask': '++ ++ ++ ++'})", "++m++t++t++"),
        ("MASK('Some text to mask', {'length': 'source'})", "********t to mask"),
        ("MASK('Some text to mask', {'anchor': 'end'})", "********"),
        ("MASK('Some text to mask', {'mask': 'LONGERTHANTHESOURCE', 'length': 'source'})", "LONGERTHANTHESOUR"),
        ("MASK('Some text to mask', {'mask': 'LONGERTHANTHESOURCE', 'anchor': -10})",
         "LONGERTHANTHESOURCExt to mask"),
        ("MASK('Some text to mask', {'mask': 'LONGERTHANTHESOURCE', 'anchor': -10, 'length': 'source'})",
         "ESOURCExt to mask"),
        ("MASK('Some text to mask', {'anchor': 'text'})", "Some ********"),
        ("MASK('abcdef', {'anchor': 2})", "ab********"), ("MASK('abcdef', {'anchor': -2})", "********ef"),
        ("MASK('abcdef', {'anchor': 'c'})", "ab********"), ("MASK('abcdef', {'anchor': 'z'})", "abcdef"),
        ("MASK('abcdef', {'anchor': 9})", "abcdef"),
        ("MASK('abcdef', {'mask': '##  ##', 'hole': ' ', 'length': 'source'})", "##cd##"),
        ("MASK('abcdef', {'mask': '(###) ###', 'inject': '()', 'length': 'source'})", "(###)d##"),
        ("MASK('ab', {'mask': 'xxxxx', 'anchor': 'end', 'length': 'source'})", "xx"),
        ("MASK(1)", None), ("MASK('a', 1)", None), ("MASK('a', {'anchor': true})", "********"),
        ("MASK('a', MISSING)", "MISSING"),
    ],
)  # fmt: skip
def test_mask_options(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("OBJECT_REMOVE({'a': 1}, 'a', MISSING)", "MISSING"), ("OBJECT_REMOVE({'a': 1}, NULL)", None),
        ("OBJECT_REMOVE({'a': 1, 'b': 2}, ['a'])", None), ("OBJECT_REMOVE({'a': 1, 'b': 2}, 'a', 'b')", {}),
        ("OBJECT_REMOVE(1e308, MISSING)", "MISSING"), ("OBJECT_REMOVE({}, MISSING)", "MISSING"),
        ("OBJECT_PUT(1, MISSING, 1)", "MISSING"), ("OBJECT_ADD(1, MISSING, 1)", "MISSING"),
        ("OBJECT_PUT({'a': 1}, 'b', MISSING)", {"a": 1}), ("OBJECT_RENAME({'a': 1}, 'a', MISSING)", "MISSING"),
        ("OBJECT_REPLACE({'a': 1}, NULL, 2)", None), ("OBJECT_REPLACE({'a': 1, 'b': 1.0}, 1, 2)", {"a": 2, "b": 2}),
        ("OBJECT_FIELD({'a': 1}, MISSING)", "MISSING"),
        ("ARRAY_REMOVE([1, 2], NULL)", None), ("ARRAY_REMOVE([1, 2], MISSING)", "MISSING"),
        ("ARRAY_REMOVE([1, NULL], NULL)", None), ("ARRAY_REMOVE([], NULL)", None),
        ("ARRAY_REMOVE([1, 2.0, 'a'], 2, 'a')", [1]),
        ("ENCODED_SIZE(MISSING)", 4), ("ENCODED_SIZE(NULL)", 4),
    ],
)  # fmt: skip
def test_object_and_array_functions_with_unknowns(expr, want):
    assert one(expr) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("TOSTRING(18446744073709551616)", "18446744073709552000"),
        ("TOSTRING(-9223372036854775809)", "-9223372036854776000"),
        ("TOSTRING(9223372036854775807)", "9223372036854775807"),
        ("TOSTRING(1e21)", "1000000000000000000000"), ("TOSTRING(1.5e-7)", "0.00000015"),
        ("TOSTRING(123456789012345678.0)", "123456789012345680"), ("TOSTRING(-0.0)", "0"),
        ("TOSTRING(2.5)", "2.5"), ("ENCODE_JSON([1e21, 1.5e-7])", "[1000000000000000000000,0.00000015]"),
        ("ENCODE_JSON(-1.5e-10)", "-0.00000000015"),
        ("TOSTRING([1, 2])", None), ("TOSTRING({'a': 1})", None), ("TOSTRING([])", None),
        ("TOSTRING(TRUE)", "true"), ("ENCODE_JSON([1, MISSING])", "[1,null]"),
    ],
)  # fmt: skip
def test_numbers_and_composites_as_strings(expr, want):
    assert one(expr) == want


def test_integer_literals_beyond_int64_are_floats():
    # a float64 absorbs the + 1; an exact integer would not
    assert one("18446744073709551616 + 1 = 18446744073709551616") is True
    assert one("9223372036854775806 + 1 = 9223372036854775807") is True


@pytest.mark.parametrize(
    "statement",
    [
        # 4210: a FROM name outside a group key or an aggregate
        "SELECT d.x, COUNT(*) AS n FROM [{'x': 1}] AS d",
        "SELECT d.x FROM [{'x': 1}] AS d GROUP BY d.y",
        "SELECT COUNT(*) AS n FROM [{'x': 1}] AS d ORDER BY d.x",
        "SELECT ARRAY e FOR e IN d.a END AS c, COUNT(*) AS n FROM [{'a': [1]}] AS d",
        "SELECT (SELECT RAW d.x) AS s, COUNT(*) AS n FROM [{'x': 1}] AS d",
        "SELECT custId, COUNT(1) AS cnt FROM [{'custId': 1}] AS o GROUP BY custId ORDER BY custId, test_id",
        "WITH c AS (1) SELECT c, COUNT(*) AS n FROM [1] AS d",
        # 4020: a subquery repeats an enclosing FROM alias
        "SELECT (SELECT RAW s.x FROM [{'x': 1}] AS s) AS v FROM [{'x': 2}] AS s",
        "SELECT RAW 1 FROM [1] AS q WHERE EXISTS (SELECT RAW 1 FROM [1] AS s WHERE EXISTS "
        "(SELECT RAW 1 FROM [2] AS s))",
        # 4310: META() without an argument needs exactly one FROM term
        "SELECT RAW META()",
        "SELECT META() FROM [{'a': [1]}] AS d UNNEST d.a AS x",
    ],
)
def test_statements_couchbase_refuses_after_parsing(statement):
    from catalog.sqlpp.errors import SqlppError

    with pytest.raises(SqlppError):
        execute(statement)


@pytest.mark.parametrize(
    ("statement", "want"),
    [
        ("SELECT d.x, COUNT(*) AS n FROM [{'x': 1}, {'x': 1}] AS d GROUP BY d.x", [{"x": 1, "n": 2}]),
        ("SELECT d.x.y AS y, COUNT(*) AS n FROM [{'x': {'y': 1}}] AS d GROUP BY d.x", [{"y": 1, "n": 1}]),
        ("SELECT k, COUNT(*) AS n FROM [{'x': 1}] AS d GROUP BY d.x AS k ORDER BY k", [{"k": 1, "n": 1}]),
        ("SELECT COUNT(*) AS n FROM [{'x': 1}] AS d ORDER BY n", [{"n": 1}]),
        ("SELECT ARRAY e FOR e IN [1] END AS c, COUNT(*) AS n FROM [{'a': 1}] AS d", [{"c": [1], "n": 1}]),
        ("SELECT (SELECT RAW s.x FROM [{'x': 1}] AS s) AS v FROM [{'x': 2}] AS t", [{"v": [1]}]),
        ("SELECT META().id AS id FROM [{'a': 1}] AS d", [{}]),
    ],
)  # fmt: skip
def test_grouped_statements_couchbase_accepts(statement, want):
    assert execute(statement) == want


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT d.id, d.id FROM [{'id': 1}] AS d",
        "SELECT d.id AS `$2`, d.c AS `$2` FROM [{'id': 1}] AS d",
        "SELECT META(d).id, d.id FROM [{'id': 1}] AS d",
        "SELECT 1, 2 AS `$1`",
        "SELECT t.`title`i, t.`Title`i, t.title FROM [{'title': 1}] AS t",
    ],
)
def test_duplicate_result_names_are_syntax_errors(statement):
    from catalog.sqlpp.errors import SqlppSyntaxError

    with pytest.raises(SqlppSyntaxError, match="Duplicate result alias"):
        execute(statement)


def test_distinct_result_names_differ_by_case():
    assert execute("SELECT 1 AS a, 2 AS A") == [{"a": 1, "A": 2}]


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("[MISSING, 1] < [NULL, 1]", "MISSING"), ("[MISSING] = [NULL]", "MISSING"), ("[1, MISSING] = [1, NULL]", "MISSING"),
        ("[NULL, MISSING] = [NULL, 1]", "MISSING"), ("[2, MISSING] > [1, 1]", True), ("[1, NULL] < [1, MISSING]", "MISSING"),
        ("[MISSING][0] IS MISSING", True), ("ARRAY_LENGTH([MISSING])", 1), ("[MISSING] IS NULL", False),
        ("[1, MISSING]", [1, None]), ("ARRAY_SORT([1, MISSING, NULL])", [None, None, 1]),
        ("ARRAY_IFNULL([MISSING, NULL, 2])", 2), ("ARRAY_IFNULL([NULL, MISSING])", None),
        ("1 IN [MISSING, 0.1]", "MISSING"), ("1 NOT IN [MISSING, 0.1]", "MISSING"), ("1 IN [MISSING, 1]", True),
        ("1 IN [NULL, MISSING]", None), ("1 IN [MISSING, NULL]", None), ("1 WITHIN [[MISSING]]", "MISSING"),
        ("ARRAY_BINARY_SEARCH([MISSING, MISSING, NULL, 1, 2], MISSING)", 0),
    ],
)  # fmt: skip
def test_missing_array_elements_are_kept(expr, want):
    assert one(expr) == want


def test_missing_array_elements_sort_below_null():
    rows = execute(
        "SELECT d.x FROM [{'x': 1, 'y': null}, {'x': 2}, {'x': 3, 'y': 0}] AS d ORDER BY [d.y, 1]"
    )
    assert rows == [{"x": 2}, {"x": 1}, {"x": 3}]
