"""A grammar-based generator of SELECT statements over the reference documents.

``statements(seed, n)`` yields (statement, params) pairs, the same ones for the same seed.
It covers paths into ``onnx.graph.node``, ``summary.initializers`` and ``metadata`` of the
demo catalog and the conformance fixtures' fields; ANY/EVERY, UNNEST/NEST, JOIN, GROUP BY/
HAVING, ORDER BY/LIMIT/OFFSET, subqueries, CASE, the function library with arguments of
every type (MISSING, NULL, wrong types, big and tiny numbers), reserved words as names with
and without backticks, and parameters. ORDER BY terms are result columns (aliases), so ties
can be told apart from a wrong order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

# keyspace -> (scalar paths, {array path: element fields})
SCHEMAS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "models_lite": (
        [
            "name",
            "version",
            "format",
            "metadata.task",
            "metadata.framework",
            "metadata.dataset",
            "metadata.metrics.accuracy",
            "metadata.metrics.r2",
            "metadata.trainRows",
            "summary.paramCount",
            "summary.sizeBytes",
            "summary.nodeCount",
            "summary.irVersion",
            "lineage.parent",
            "lineage.generation",
            "onnx.irVersion",
            "onnx.producerName",
            "onnx.graph.name",
            "nosuch",
            "metadata.nosuch.deeper",
            "metadata",
            "lineage",
        ],
        {
            "onnx.graph.node": ["opType", "name", "domain", "input", "output", "attribute"],
            "summary.initializers": [
                "name",
                "numel",
                "dataType",
                "stats.zeroFraction",
                "stats.mean",
                "stats.max",
                "dims",
            ],
            "metadata.tags": [],
            "summary.opTypes": [],
            "metadata.sampleRow": [],
            "metadata.featureNames": [],
            "summary.inputs": ["name", "dataType", "shape"],
        },
    ),  # fmt: skip
    "aliases": (["name", "maxVersion", "aliases.production", "aliases.latest", "aliases"], {}),
    "audit": (["name", "alias", "`from`", "`to`", "`user`", "`at`", "type"], {}),
    "orders": (["c1", "c2", "c3", "c4", "c5", "type", "test_id"], {}),
    "shellTest": (["c11", "c12", "c21", "c22", "type"], {"a11": [], "a21": [], "a22": []}),
    "empSmall": (["name", "reportsTo"], {}),
}
KEYSPACE_WEIGHTS = {"models_lite": 5, "aliases": 1, "audit": 1, "orders": 2, "shellTest": 2,
                    "empSmall": 1}  # fmt: skip
JOINS = [  # (left ks, right ks, ON condition with {l} and {r} aliases)
    ("models_lite", "aliases", "{l}.name = {r}.name"),
    ("audit", "models_lite", "{l}.name = {r}.name AND {l}.`to` = {r}.version"),
    ("orders", "shellTest", "{l}.c4 = {r}.c12"),
    ("empSmall", "empSmall", "{l}.reportsTo = {r}.name"),
]
# name -> number of arguments (a tuple: any of these)
FUNCTIONS: dict[str, tuple[int, ...]] = {
    "ABS": (1,), "CEIL": (1,), "FLOOR": (1,), "SQRT": (1,), "EXP": (1,), "LN": (1,),
    "LOG": (1,), "SIGN": (1,), "ROUND": (1, 2), "TRUNC": (1, 2), "POWER": (2,), "ATAN2": (2,),
    "GREATEST": (2, 3), "LEAST": (2, 3), "DIV": (2,), "IDIV": (2,), "IMOD": (2,),
    "LENGTH": (1,), "LOWER": (1,), "UPPER": (1,), "TRIM": (1, 2), "LTRIM": (1, 2),
    "RTRIM": (1, 2), "SUBSTR": (2, 3), "SUBSTR1": (2, 3), "CONTAINS": (2,), "POSITION": (2,),
    "POSITION1": (2,), "REPLACE": (3, 4), "SPLIT": (1, 2), "CONCAT": (2, 3), "INITCAP": (1,),
    "TITLE": (1,), "REVERSE": (1,), "LPAD": (2, 3), "RPAD": (2, 3), "SUFFIXES": (1,),
    "REPEAT": (2,), "REGEXP_CONTAINS": (2,), "REGEXP_LIKE": (2,), "REGEXP_POSITION": (2,),
    "REGEXP_REPLACE": (3,), "ARRAY_LENGTH": (1,), "ARRAY_SUM": (1,), "ARRAY_AVG": (1,),
    "ARRAY_MAX": (1,), "ARRAY_MIN": (1,), "ARRAY_COUNT": (1,), "ARRAY_DISTINCT": (1,),
    "ARRAY_SORT": (1,), "ARRAY_REVERSE": (1,), "ARRAY_CONTAINS": (2,), "ARRAY_POSITION": (2,),
    "ARRAY_APPEND": (2,), "ARRAY_PREPEND": (2,), "ARRAY_REMOVE": (2,), "ARRAY_CONCAT": (2,),
    "ARRAY_FLATTEN": (2,), "ARRAY_INTERSECT": (2,), "ARRAY_UNION": (2,), "ARRAY_STAR": (1,),
    "ARRAY_RANGE": (2, 3), "ARRAY_REPEAT": (2,), "ARRAY_IFNULL": (1,), "ARRAY_PUT": (2,),
    "ARRAY_INSERT": (3,), "ARRAY_REPLACE": (3,), "ARRAY_AGG": (1,),
    "OBJECT_LENGTH": (1,), "OBJECT_NAMES": (1,), "OBJECT_VALUES": (1,), "OBJECT_PAIRS": (1,),
    "OBJECT_ADD": (3,), "OBJECT_PUT": (3,), "OBJECT_REMOVE": (2,), "OBJECT_CONCAT": (2,),
    "TYPE": (1,), "TYPENAME": (1,), "ISARRAY": (1,), "ISNUMBER": (1,), "ISSTRING": (1,),
    "ISOBJECT": (1,), "ISBOOLEAN": (1,), "TOARRAY": (1,), "TONUMBER": (1,), "TOSTRING": (1,),
    "TOBOOLEAN": (1,), "TOOBJECT": (1,), "IFMISSING": (2, 3), "IFNULL": (2, 3),
    "IFMISSINGORNULL": (2, 3), "MISSINGIF": (2,), "NULLIF": (2,), "NVL": (2,), "NVL2": (3,),
    "DECODE_JSON": (1,), "ENCODE_JSON": (1,), "ENCODED_SIZE": (1,), "POLY_LENGTH": (1,),
    "BASE64": (1,), "META": (0,), "COALESCE": (2, 3), "IFINF": (2,), "IFNAN": (2,),
    "IFNANORINF": (2,), "DATE_ADD_STR": (3,), "DATE_DIFF_STR": (3,), "DATE_PART_STR": (2,),
    "STR_TO_MILLIS": (1,), "MILLIS_TO_STR": (1,), "DATE_TRUNC_STR": (2,), "MB": (1,),
}  # fmt: skip
AGGREGATES = ["COUNT", "SUM", "AVG", "MIN", "MAX", "ARRAY_AGG", "COUNTN", "MEDIAN", "STDDEV",
              "VARIANCE"]  # fmt: skip
NUMBERS = ["0", "1", "-1", "2", "3.5", "-2.5", "0.1", "1e308", "-1e308", "1e-308", "5e-324",
           "9007199254740993", "9223372036854775807", "-9223372036854775808",
           "18446744073709551616", "1e20", "123456789012", "0.0", "-0.0", "2.5", "7"]  # fmt: skip
STRINGS = ['"abc"', '""', '"ÄÖü ß"', '"a%b_c"', "'it''s'", '"Conv"', '"iris-svc"',
           '"2026-01-02T03:04:05Z"', '"2026-01-02"', '"[1,2]"', '"{\\"a\\": 1}"', '" x "',
           '"production"', '"classification"', '"a.b"', '"day"', '"month"', '"^[a-z]+$"']  # fmt: skip
RESERVED_NAMES = ["at", "value", "select", "order", "user", "type", "self", "path", "string",
                  "level", "window", "key", "first", "default"]  # fmt: skip
ALIAS_POOL = ["x", "v", "total", "n", "name", "res"]


class Gen:
    """Build one statement at a time from a random.Random."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.params: dict[str, Any] = {}

    def pick(self, xs: Any) -> Any:
        return self.r.choice(list(xs))

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    # --- values ------------------------------------------------------------------
    def literal(self) -> str:
        k = self.r.random()
        if k < 0.35:
            return self.pick(NUMBERS)
        if k < 0.6:
            return self.pick(STRINGS)
        if k < 0.7:
            return self.pick(["NULL", "MISSING", "TRUE", "FALSE"])
        if k < 0.8:
            return "[" + ", ".join(self.literal() for _ in range(self.r.randint(0, 3))) + "]"
        if k < 0.87:
            # distinct names: which duplicate wins is not defined (cbq-engine varies run to run)
            names = self.r.sample("abcde", self.r.randint(0, 3))
            items = [f'"{k}": {self.literal()}' for k in names]
            return "{" + ", ".join(items) + "}"
        return self.param()

    def param(self) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = self.pick([0, 1, -3, 2.5, "abc", "iris-svc", None, True, [1, 2],
                                       {"a": 1}, 1e300, 2**53 + 1, "Conv", ""])  # fmt: skip
        return "$" + name

    def path(self, alias: str, ks: str) -> str:
        scalars, arrays = SCHEMAS[ks]
        if self.chance(0.2) and arrays:
            arr = self.pick(arrays)
            if self.chance(0.5):
                return f"{alias}.{arr}[{self.pick(['0', '1', '-1', '5'])}]"
            return f"{alias}.{arr}"
        return f"{alias}.{self.pick(scalars)}"

    def expr(self, scope: list[tuple[str, str]], depth: int = 0) -> str:
        """An expression over the FROM aliases in scope: [(alias, keyspace or '' for a value)]."""
        k = self.r.random()
        if depth > 2 or k < 0.25:
            return self.atom(scope)
        if k < 0.45:
            return self.call(scope, depth)
        if k < 0.55:
            op = self.pick(["+", "-", "*", "/", "%", "||"])
            return f"({self.expr(scope, depth + 1)} {op} {self.expr(scope, depth + 1)})"
        if k < 0.62:
            return self.case(scope, depth)
        if k < 0.7:
            return f"({self.cond(scope, depth + 1)})"
        if k < 0.77 and scope and scope[0][1]:
            alias, ks = scope[0]
            arrays = SCHEMAS[ks][1]
            if arrays:
                arr = self.pick(arrays)
                fields = arrays[arr]
                v = self.var()
                item = f"{v}.{self.pick(fields)}" if fields else v
                kind = self.pick(["ARRAY", "FIRST"])
                when = f" WHEN {item} IS NOT NULL" if self.chance(0.4) else ""
                return f"{kind} {item} FOR {v} IN {alias}.{arr}{when} END"
        if k < 0.82:
            return f"[{self.expr(scope, depth + 1)}, {self.atom(scope)}]"
        if k < 0.86:
            return f'{{"k": {self.expr(scope, depth + 1)}}}'
        if k < 0.9 and depth == 0:
            return "(" + self.subquery(scope) + ")"
        return self.atom(scope)

    def var(self) -> str:
        if self.chance(0.08):
            word = self.pick(RESERVED_NAMES)
            return f"`{word}`" if self.chance(0.5) else word
        return self.pick(["e", "y", "it", "op"])

    def atom(self, scope: list[tuple[str, str]]) -> str:
        if scope and self.chance(0.6):
            alias, ks = self.pick(scope)
            return self.path(alias, ks) if ks else alias
        return self.literal()

    def call(self, scope: list[tuple[str, str]], depth: int) -> str:
        name = self.pick(FUNCTIONS)
        n = self.pick(FUNCTIONS[name])
        if name == "META":
            return f"META({scope[0][0]}).id" if scope and scope[0][1] else "META()"
        args = [self.expr(scope, depth + 1) for _ in range(n)]
        return f"{name}({', '.join(args)})"

    def case(self, scope: list[tuple[str, str]], depth: int) -> str:
        whens = " ".join(f"WHEN {self.cond(scope, depth + 1)} THEN {self.expr(scope, depth + 1)}"
                         for _ in range(self.r.randint(1, 2)))  # fmt: skip
        default = f" ELSE {self.expr(scope, depth + 1)}" if self.chance(0.6) else ""
        return f"CASE {whens}{default} END"

    def cond(self, scope: list[tuple[str, str]], depth: int = 0) -> str:
        k = self.r.random()
        a = self.expr(scope, depth + 1)
        if k < 0.35:
            op = self.pick(["=", "!=", "<", "<=", ">", ">=", "==", "<>"])
            return f"{a} {op} {self.expr(scope, depth + 1)}"
        if k < 0.45:
            return f"{a} IS {self.pick(['', 'NOT '])}{self.pick(['NULL', 'MISSING', 'VALUED', 'KNOWN', 'UNKNOWN'])}"
        if k < 0.52:
            return f"{a} {self.pick(['', 'NOT '])}LIKE {self.pick(STRINGS)}"
        if k < 0.58:
            return f"{a} {self.pick(['', 'NOT '])}BETWEEN {self.literal()} AND {self.literal()}"
        if k < 0.66:
            return f"{a} {self.pick(['IN', 'NOT IN', 'WITHIN'])} {self.expr(scope, depth + 1)}"
        if k < 0.8 and scope and scope[0][1] and SCHEMAS[scope[0][1]][1]:
            alias, ks = scope[0]
            arrays = SCHEMAS[ks][1]
            arr = self.pick(arrays)
            v = self.var()
            fields = arrays[arr]
            item = f"{v}.{self.pick(fields)}" if fields else v
            q = self.pick(["ANY", "SOME", "EVERY", "ANY AND EVERY"])
            return f"{q} {v} IN {alias}.{arr} SATISFIES {item} {self.pick(['=', '>', '<', '!='])} {self.literal()} END"
        if k < 0.9:
            both = f"{self.cond(scope, depth + 1)} {self.pick(['AND', 'OR'])} {self.cond(scope, depth + 1)}"
            return f"NOT ({both})" if self.chance(0.2) else both
        return f"EXISTS ({self.subquery(scope)})"

    # --- statements --------------------------------------------------------------
    def subquery(self, scope: list[tuple[str, str]]) -> str:
        ks = self.pick(["orders", "empSmall", "shellTest", "aliases"])
        alias = "s" + str(self.r.randint(0, 9))
        inner = [(alias, ks)]
        where = f" WHERE {self.cond(inner + scope[:1], 2)}" if self.chance(0.6) else ""
        return f"SELECT RAW {self.path(alias, ks)} FROM {ks} {alias}{where}"

    def statement(self) -> tuple[str, dict[str, Any] | None]:
        """Return one statement and its named parameters (None when it has none)."""
        self.params = {}
        k = self.r.random()
        text = self.fromless() if k < 0.2 else self.select()
        return text, (dict(self.params) or None)

    def fromless(self) -> str:
        terms = [f"{self.expr([])} AS v{i}" for i in range(self.r.randint(1, 3))]
        if self.chance(0.3):
            return f"SELECT RAW {self.expr([])}"
        return "SELECT " + ", ".join(terms)

    def select(self) -> str:
        ks = self.r.choices(list(KEYSPACE_WEIGHTS), weights=list(KEYSPACE_WEIGHTS.values()))[0]
        alias = self.alias_name()
        scope = [(alias, ks)]
        from_ = f"FROM {ks} {alias}" if self.chance(0.8) else f"FROM {ks} AS {alias}"
        scalars, arrays = SCHEMAS[ks]
        if arrays and self.chance(0.3):
            arr = self.pick(arrays)
            v = self.pick(["u", "n", "i"])
            kind = self.pick(["UNNEST", "LEFT UNNEST", "INNER UNNEST"])
            from_ += f" {kind} {alias}.{arr} {v}"
            scope.append((v, ""))
        elif self.chance(0.2):
            joins = [j for j in JOINS if j[0] == ks]
            if joins:
                _, right, on = self.pick(joins)
                r = alias + "2"
                kind = self.pick(["JOIN", "LEFT JOIN", "INNER JOIN", "NEST", "LEFT NEST"])
                from_ += f" {kind} {right} {r} ON {on.format(l=alias, r=r)}"
                if "NEST" not in kind:
                    scope.append((r, right))
                else:
                    scope.append((r, ""))
        let = ""
        if self.chance(0.15):
            let = f" LET lv = {self.expr(scope)}"
            scope.append(("lv", ""))
        where = f" WHERE {self.cond(scope)}" if self.chance(0.6) else ""
        grouped = self.chance(0.25)
        cols: list[str] = []
        if grouped:
            keys = [self.path(alias, ks) for _ in range(self.r.randint(1, 2))]
            keys = list(dict.fromkeys(keys))
            terms = [f"{key} AS g{i}" for i, key in enumerate(keys)]
            cols = [f"g{i}" for i in range(len(keys))]
            for j in range(self.r.randint(1, 2)):
                agg = self.pick(AGGREGATES)
                arg = "*" if agg == "COUNT" and self.chance(0.4) else self.path(alias, ks)
                distinct = "DISTINCT " if arg != "*" and self.chance(0.2) else ""
                call = f"{agg}({distinct}{arg})"
                if agg == "ARRAY_AGG" and not distinct:
                    call = f"ARRAY_SORT({call})"  # the order of aggregated values is not defined
                terms.append(f"{call} AS a{j}")
                cols.append(f"a{j}")
            having = (
                f" HAVING COUNT(*) {self.pick(['>', '>=', '='])} {self.r.randint(0, 3)}"
                if self.chance(0.3)
                else ""
            )
            body = (
                f"SELECT {', '.join(terms)} {from_}{let}{where} GROUP BY {', '.join(keys)}{having}"
            )
        else:
            raw = self.chance(0.15)
            if raw:
                body = f"SELECT RAW {self.expr(scope)} {from_}{let}{where}"
            elif self.chance(0.1):
                body = f"SELECT {alias}.* {from_}{let}{where}"
            else:
                terms = []
                for i in range(self.r.randint(1, 4)):
                    name = f"c{i}"
                    if self.chance(0.06):
                        word = self.pick(RESERVED_NAMES)
                        name = f"`{word}`" if self.chance(0.5) else word
                    terms.append(f"{self.expr(scope)} AS {name}")
                    cols.append(name)
                distinct = "DISTINCT " if self.chance(0.1) else ""
                body = f"SELECT {distinct}{', '.join(terms)} {from_}{let}{where}"
        tail = ""
        if cols and self.chance(0.5):
            order = [f"{c}{self.pick(['', ' DESC', ' ASC', ' DESC NULLS LAST', ' NULLS FIRST'])}"
                     for c in self.r.sample(cols, self.r.randint(1, len(cols)))]  # fmt: skip
            tail += " ORDER BY " + ", ".join(order)
        if self.chance(0.25):
            tail += (
                f" LIMIT {self.pick(['0', '1', '3', '10', '$lim' if self.chance(0.2) else '2'])}"
            )
            if "$lim" in tail:
                self.params["lim"] = 2
            if self.chance(0.4):
                tail += f" OFFSET {self.pick(['0', '1', '5'])}"
        return body + tail

    def alias_name(self) -> str:
        if self.chance(0.05):
            word = self.pick(RESERVED_NAMES)
            return f"`{word}`" if self.chance(0.6) else word
        return self.pick(["m", "t", "d", "q"])


def statements(seed: int, n: int) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Yield n (statement, params) pairs, the same for the same seed."""
    gen = Gen(random.Random(seed))
    for _ in range(n):
        yield gen.statement()


def lite_model(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a model document with its long arrays cut (same paths, a fraction of the size)."""
    import copy

    d = copy.deepcopy(doc)
    graph = d.get("onnx", {}).get("graph", {})
    for k in ("node", "initializer", "input", "output"):
        if isinstance(graph.get(k), list):
            graph[k] = graph[k][:6]
    for n in graph.get("node", []):
        for a in n.get("attribute", []) or []:
            for big in ("floats", "ints", "strings", "t"):
                if isinstance(a.get(big), list):
                    a[big] = a[big][:4]
                elif isinstance(a.get(big), dict):
                    a[big] = {k: v for k, v in a[big].items() if not isinstance(v, list)}
    for init in graph.get("initializer", []):
        for k in list(init):
            if isinstance(init[k], list) and k != "dims":
                init[k] = init[k][:4]
    summary = d.get("summary", {})
    if isinstance(summary.get("initializers"), list):
        summary["initializers"] = summary["initializers"][:6]
    meta = d.get("metadata", {})
    for k in ("sampleRow", "featureNames"):
        if isinstance(meta.get(k), list):
            meta[k] = meta[k][:5]
    return d
