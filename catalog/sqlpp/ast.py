"""Syntax tree of SQL++ statements: expression nodes and SELECT structure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Node:
    """Base of every expression node."""

    __slots__ = ()


_LEAVES = (str, int, float, bool)


def children(n: Any) -> list[Any]:
    """Return what a walk of the tree visits under ``n``: the items of a list or tuple, or
    the fields of a node that are not empty and not plain values (strings and numbers)."""
    if isinstance(n, (list, tuple)):
        return list(n)
    if isinstance(n, _LEAVES) or not hasattr(type(n), "__slots__"):
        return []
    fields = (getattr(n, s, None) for s in type(n).__slots__)
    return [v for v in fields if v is not None and not isinstance(v, _LEAVES)]


@dataclass(slots=True)
class Lit(Node):
    value: Any


@dataclass(slots=True)
class Ident(Node):
    name: str
    ci: bool = False


@dataclass(slots=True)
class Param(Node):
    key: Any  # int for $1 / ?, str for $name


@dataclass(slots=True)
class Field(Node):
    base: Node
    name: str
    ci: bool = False


@dataclass(slots=True)
class DynField(Node):
    base: Node
    name: Node  # obj.[expr]


@dataclass(slots=True)
class Index(Node):
    base: Node
    index: Node


@dataclass(slots=True)
class Slice(Node):
    base: Node
    start: Node | None
    end: Node | None


@dataclass(slots=True)
class ArrayStar(Node):
    base: Node  # expr[*] or expr[]


@dataclass(slots=True)
class Unary(Node):
    op: str  # neg, not
    operand: Node


@dataclass(slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(slots=True)
class Logic(Node):
    op: str  # and, or
    operands: list[Node]


@dataclass(slots=True)
class Like(Node):
    operand: Node
    pattern: Node
    escape: Node | None
    negate: bool


@dataclass(slots=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negate: bool


@dataclass(slots=True)
class InList(Node):
    operand: Node
    coll: Node
    negate: bool
    within: bool = False


@dataclass(slots=True)
class Is(Node):
    operand: Node
    what: str  # null, missing, valued, unknown
    negate: bool


@dataclass(slots=True)
class Case(Node):
    subject: Node | None
    whens: list[tuple[Node, Node]]
    default: Node | None


@dataclass(slots=True)
class Binding:
    var: str
    expr: Node
    pos_var: str | None = None
    within: bool = False


@dataclass(slots=True)
class Quantified(Node):
    kind: str  # any, every, anyevery
    bindings: list[Binding]
    cond: Node


@dataclass(slots=True)
class Comprehension(Node):
    kind: str  # array, first, object
    expr: Node
    bindings: list[Binding]
    when: Node | None
    key: Node | None = None  # OBJECT key : expr


@dataclass(slots=True)
class ArrayCons(Node):
    items: list[Node]


@dataclass(slots=True)
class ObjectCons(Node):
    pairs: list[tuple[Node, Node]]


@dataclass(slots=True)
class Call(Node):
    name: str  # lower case
    args: list[Node]
    distinct: bool = False
    star: bool = False
    filter: Node | None = None
    over: Window | None = None
    pos: int = 0
    from_last: bool = False  # NTH_VALUE ... FROM LAST
    ignore_nulls: bool = False  # ... IGNORE NULLS


@dataclass(slots=True)
class Frame:
    """A window frame: ROWS, RANGE or GROUPS between two bounds, and its EXCLUDE option."""

    unit: str  # rows, range, groups
    start: tuple[str, Node | None]  # (unbounded preceding|preceding|current|following|...)
    end: tuple[str, Node | None]
    exclude: str = "no others"  # or current row, group, ties


@dataclass(slots=True)
class Window:
    """OVER (...): an optional named window it refines, PARTITION BY, ORDER BY, frame."""

    ref: str | None = None
    partition: list[Node] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    frame: Frame | None = None


@dataclass(slots=True)
class Exists(Node):
    operand: Node


@dataclass(slots=True)
class Subquery(Node):
    query: Select


# --- SELECT structure -------------------------------------------------------------


@dataclass(slots=True)
class ResultTerm:
    expr: Node | None  # None for a bare *
    alias: str | None = None
    star: bool = False


@dataclass(slots=True)
class KeyspaceTerm:
    path: list[str]  # bucket[.scope.collection], no namespace
    alias: str
    use_keys: Node | None = None
    use_index: list[str] | None = None  # USE INDEX (name, ...)


@dataclass(slots=True)
class ExprTerm:
    expr: Node  # an expression, variable path or subquery
    alias: str
    use_keys: Node | None = None
    use_index: list[str] | None = None  # USE INDEX (name, ...)


@dataclass(slots=True)
class JoinClause:
    kind: str  # join, nest, unnest
    outer: bool
    term: KeyspaceTerm | ExprTerm | None
    on_keys: Node | None = None
    on: Node | None = None
    expr: Node | None = None  # UNNEST expression
    alias: str | None = None  # UNNEST alias


@dataclass(slots=True)
class SubSelect:
    distinct: bool = False
    raw: bool = False
    terms: list[ResultTerm] = field(default_factory=list)
    exclude: list[Node] = field(default_factory=list)
    from_: KeyspaceTerm | ExprTerm | None = None
    joins: list[JoinClause] = field(default_factory=list)
    let: list[tuple[str, Node]] = field(default_factory=list)
    where: Node | None = None
    group_by: list[tuple[Node, str | None]] | None = None
    group_as: str | None = None
    letting: list[tuple[str, Node]] = field(default_factory=list)
    having: Node | None = None
    windows: dict[str, Window] = field(default_factory=dict)  # WINDOW name AS (...)


@dataclass(slots=True)
class SetOp:
    op: str  # union, intersect, except
    all: bool
    left: SubSelect | Select | SetOp
    right: SubSelect | Select | SetOp


@dataclass(slots=True)
class OrderTerm:
    expr: Node
    desc: bool = False
    nulls_first: bool | None = None


@dataclass(slots=True)
class Select:
    body: SubSelect | Select | SetOp
    with_: list[tuple[str, Node]] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: Node | None = None
    offset: Node | None = None


@dataclass(slots=True)
class RecursiveWith(Node):
    """WITH RECURSIVE name AS (anchor UNION [ALL] step) [CYCLE exprs RESTRICT] [OPTIONS {...}]."""

    name: str
    anchor: SubSelect | Select | SetOp
    step: SubSelect | Select
    union_all: bool
    cycle: list[Node] = field(default_factory=list)
    options: Node | None = None
