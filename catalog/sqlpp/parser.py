"""Recursive-descent parser for SQL++ SELECT statements (FROM, GROUP BY, set operators)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from catalog.sqlpp import ast as A
from catalog.sqlpp.aggregates import AGGREGATES
from catalog.sqlpp.errors import SqlppError, SqlppNotSupported
from catalog.sqlpp.keywords import NON_SELECT
from catalog.sqlpp.lexer import Token, tokenize
from catalog.sqlpp.parser_expr import (
    _BP_CMP,
    MAX_TREE_DEPTH,
    RESERVED,
    ExprParser,
    _default_alias,
    implicit_name,
)
from catalog.sqlpp.scope import idents
from catalog.sqlpp.semantics import check_semantics


def statement_keyword(text: str) -> str:
    """Return the upper-cased first keyword of a statement ('' if none).

    Statements up to 4 KiB are remembered (the last 256): the catalog sends the same few
    again and again, and tokenizing one costs more than the index scan that answers it."""
    return _keyword(text) if len(text) <= 4096 else _keyword.__wrapped__(text)


@lru_cache(maxsize=256)
def _keyword(text: str) -> str:
    try:
        toks = tokenize(text)
    except SqlppError:
        return ""
    for t in toks:
        if t.kind == "op" and t.value == "(":
            continue
        return t.upper or ""
    return ""


def parse(text: str) -> A.Select:
    """Return the syntax tree of one SELECT statement."""
    p = Parser(text)
    kw = p.peek().upper
    if kw in NON_SELECT:
        raise SqlppNotSupported(f"{kw} statements are not supported by the embedded engine")
    q = p.fullselect()
    if p.peek().kind == "op" and p.peek().value == ";":
        p.next()
    if p.peek().kind != "eof":
        p.fail("unexpected " + p.describe(p.peek()))
    check_depth(q)
    check_semantics(q)
    return q


def parse_expression(text: str) -> A.Node:
    """Return the syntax tree of one expression."""
    p = Parser(text)
    e = p.expr()
    if p.peek().kind != "eof":
        p.fail("unexpected " + p.describe(p.peek()))
    check_depth(e)
    return e


def check_depth(root: Any) -> None:
    """Raise if the tree is deeper than the evaluator can safely recurse."""
    stack = [(root, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_TREE_DEPTH:
            raise SqlppError("expression nested too deeply")
        if isinstance(node, (list, tuple)):
            stack.extend((x, d) for x in node)
        elif hasattr(node, "__slots__") and not isinstance(node, (str, Token)):
            for name in getattr(type(node), "__slots__", ()):
                v = getattr(node, name, None)
                if v is not None and not isinstance(v, (str, int, float, bool)):
                    stack.append((v, d + 1))


class Parser(ExprParser):
    """The statement grammar: WITH, SELECT, FROM, joins, GROUP BY, ORDER BY, LIMIT."""

    def fullselect(self) -> A.Select:
        self.enter()
        with_: list[tuple[str, A.Node]] = []
        if self.accept_kw("WITH"):
            recursive = self.accept_kw("RECURSIVE")
            while True:
                name = self.ident("WITH name")[0]
                self.expect_kw("AS")
                self.expect_op("(")
                body = self.paren_body()
                cycle: list[A.Node] = []
                if self.accept_kw("CYCLE"):
                    cycle.append(self.expr())
                    while self.accept_op(","):
                        cycle.append(self.expr())
                    self.expect_kw("RESTRICT")
                options = self.expr() if self.accept_kw("OPTIONS") else None
                if recursive:
                    body = recursive_with(name, body, cycle, options)
                elif cycle or options is not None:
                    self.fail("CYCLE and OPTIONS need WITH RECURSIVE")
                elif _reads_from(body, name):
                    raise SqlppError(f"WITH {name} reads from itself: use WITH RECURSIVE")
                with_.append((name, body))
                if not self.accept_op(","):
                    break
        body = self.select_term()
        while self.is_kw("UNION", "INTERSECT", "EXCEPT"):
            op = self.next().upper.lower()
            all_ = self.accept_kw("ALL")
            if not all_:
                self.accept_kw("DISTINCT")
            body = A.SetOp(op, all_, body, self.select_term())
        q = A.Select(body, with_)
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            q.order = self.order_terms()
        for _ in range(2):
            if self.accept_kw("LIMIT"):
                q.limit = self.expr()
            elif self.accept_kw("OFFSET"):
                q.offset = self.expr()
        self.depth -= 1
        return q

    def select_term(self) -> A.SubSelect | A.Select:
        if self.is_op("("):
            self.next()
            q = self.fullselect()
            self.expect_op(")")
            return q
        return self.subselect()

    def subselect(self) -> A.SubSelect:
        s = A.SubSelect()
        if self.is_kw("FROM"):
            self.from_clause(s)
            self.select_clause(s)
            return s
        self.select_clause(s)
        if self.is_kw("FROM"):
            self.from_clause(s)
        else:
            self.after_from(s)
        return s

    def select_clause(self, s: A.SubSelect) -> None:
        self.expect_kw("SELECT")
        if self.accept_kw("DISTINCT"):
            s.distinct = True
        else:
            self.accept_kw("ALL")
        if self.accept_kw("RAW", "ELEMENT", "VALUE"):
            s.raw = True
            s.terms = [A.ResultTerm(self.expr(), self.opt_alias())]
        else:
            while True:
                s.terms.append(self.result_term())
                if not self.accept_op(","):
                    break
        if self.accept_kw("EXCLUDE"):
            while True:
                s.exclude.append(self.expr())
                if not self.accept_op(","):
                    break

    def result_term(self) -> A.ResultTerm:
        if self.accept_op("*"):
            return A.ResultTerm(None, None, True)
        e = self.expr()
        if self.is_op(".") and self.is_op("*", 1):
            self.i += 2
            return A.ResultTerm(e, None, True)
        return A.ResultTerm(e, self.opt_alias())

    def from_clause(self, s: A.SubSelect) -> None:
        self.expect_kw("FROM")
        s.from_ = self.from_term()
        while True:
            if self.accept_op(","):
                s.joins.append(A.JoinClause("join", False, self.from_term()))
                continue
            outer = False
            k = 0
            if self.is_kw("INNER"):
                k = 1
            elif self.is_kw("LEFT"):
                outer, k = True, 2 if self.is_kw("OUTER", k=1) else 1
            elif self.is_kw("RIGHT"):
                raise SqlppNotSupported("RIGHT OUTER JOIN is not supported yet")
            kw = self.peek(k).upper
            if kw not in ("JOIN", "NEST", "UNNEST", "FLATTEN"):
                if k:
                    self.i += k
                    self.fail("expected JOIN, NEST or UNNEST")
                break
            self.i += k + 1
            if kw in ("UNNEST", "FLATTEN"):
                e = self.expr()
                alias = self.opt_alias() or _default_alias(e)
                if alias is None:
                    self.fail("UNNEST expression needs an alias (AS name)")
                s.joins.append(A.JoinClause("unnest", outer, None, expr=e, alias=alias))
                continue
            term = self.from_term()
            j = A.JoinClause(kw.lower(), outer, term)
            self.expect_kw("ON")
            if self.accept_kw("KEYS", "PRIMARY"):
                if self.peek(-1).upper == "PRIMARY":
                    self.expect_kw("KEYS")
                j.on_keys = self.expr()
            elif self.is_kw("KEY"):
                raise SqlppNotSupported("index joins (ON KEY ... FOR ...) are not supported yet")
            else:
                j.on = self.expr()
            s.joins.append(j)
        self.after_from(s)

    def after_from(self, s: A.SubSelect) -> None:
        """Parse LET, WHERE, GROUP BY, LETTING and HAVING."""
        if self.accept_kw("LET"):
            s.let = self.bindings()
        if self.accept_kw("WHERE"):
            s.where = self.expr()
        if self.accept_kw("GROUP"):
            self.expect_kw("BY")
            s.group_by = []
            while True:
                e = self.expr()
                s.group_by.append((e, self.ident()[0] if self.accept_kw("AS") else None))
                if not self.accept_op(","):
                    break
            if self.accept_kw("GROUP"):
                self.expect_kw("AS")
                s.group_as = self.ident()[0]
        if self.accept_kw("LETTING"):
            s.letting = self.bindings()
        if self.accept_kw("HAVING"):
            s.having = self.expr()
        if self.accept_kw("WINDOW"):
            while True:
                name = self.ident("window name")[0]
                self.expect_kw("AS")
                if not self.is_op("("):
                    self.fail("expected '(' after WINDOW name AS")
                s.windows[name] = self.window_spec()
                if not self.accept_op(","):
                    break

    def bindings(self) -> list[tuple[str, A.Node]]:
        out = []
        while True:
            name = self.ident()[0]
            self.expect_op("=")
            out.append((name, self.expr()))
            if not self.accept_op(","):
                return out

    def from_term(self) -> A.KeyspaceTerm | A.ExprTerm:
        t = self.peek()
        if t.kind in ("id", "qid") and self.is_op(":", 1) and t.upper != "":
            self.i += 2  # namespace prefix such as default:
            path = [self.ident("keyspace")[0]]
            while self.accept_op("."):
                path.append(self.ident("keyspace")[0])
            term: A.KeyspaceTerm | A.ExprTerm = A.KeyspaceTerm(path, "")
            term.alias = self.opt_alias() or path[-1]
        else:
            e = self.expr(_BP_CMP)
            alias = self.opt_alias() or _default_alias(e)
            if alias is None:
                self.fail("this FROM term needs an alias (AS name)", t)
            term = A.ExprTerm(e, alias)
        self.use_clause(term)
        return term

    def use_clause(self, term: A.KeyspaceTerm | A.ExprTerm) -> None:
        while self.is_kw("USE"):
            self.next()
            if self.accept_kw("PRIMARY"):
                self.expect_kw("KEYS")
                term.use_keys = self.expr()
            elif self.accept_kw("KEYS"):
                term.use_keys = self.expr()
            elif self.accept_kw("INDEX"):
                term.use_index = self.index_names()
            elif self.peek().upper in ("HASH", "NL"):
                self.next()
                if self.is_op("("):
                    self.skip_parens()
            else:
                self.fail("expected KEYS, INDEX, HASH or NL after USE")

    def index_names(self) -> list[str]:
        """Parse ``(name [USING GSI|FTS], ...)`` after USE INDEX."""
        self.expect_op("(")
        names = []
        while True:
            names.append(self.ident("index name")[0])
            if self.accept_kw("USING"):
                self.next()
            if not self.accept_op(","):
                break
        self.expect_op(")")
        return names

    def skip_parens(self) -> None:
        self.expect_op("(")
        level = 1
        while level:
            t = self.next()
            if t.kind == "eof":
                self.fail("unbalanced parentheses")
            if t.kind == "op" and t.value == "(":
                level += 1
            elif t.kind == "op" and t.value == ")":
                level -= 1

    def order_terms(self) -> list[A.OrderTerm]:
        out = []
        while True:
            o = A.OrderTerm(self.expr())
            if self.accept_kw("DESC"):
                o.desc = True
            else:
                self.accept_kw("ASC")
            if self.accept_kw("NULLS"):
                if self.accept_kw("FIRST"):
                    o.nulls_first = True
                else:
                    self.expect_kw("LAST")
                    o.nulls_first = False
            out.append(o)
            if not self.accept_op(","):
                return out


__all__ = ["NON_SELECT", "RESERVED", "Parser", "implicit_name", "parse", "parse_expression"]


def recursive_with(name: str, body: A.Node, cycle: list[A.Node],
                   options: A.Node | None) -> A.Node:  # fmt: skip
    """Return the WITH RECURSIVE term for a body that refers to itself, else the body."""
    q = body.query if isinstance(body, A.Subquery) else None
    if q is None:
        return body
    if not _refers_to(q, name):
        if isinstance(q.body, A.SubSelect):
            _check_step(q.body)
        return body
    top = q.body
    if q.order or q.limit is not None or q.offset is not None:
        raise SqlppError("recursive_with semantics: Order/Limit/Offset not allowed")
    if not isinstance(top, A.SetOp):
        raise SqlppError(f"recursive WITH {name}: anchor UNION [ALL] recursive step expected")
    if top.op != "union":
        raise SqlppError(f"recursive WITH {name}: only UNION [ALL] may join anchor and step")
    if _refers_to(top.left, name):
        raise SqlppError(
            f"Anchor Clause cannot have recursive reference in FROM expression: {name}"
        )
    step = top.right
    if isinstance(step, A.Select):
        if step.order or step.limit is not None or step.offset is not None:
            raise SqlppError("recursive_with semantics: Order/Limit/Offset not allowed")
        step = step.body  # type: ignore[assignment]
    if not isinstance(step, A.SubSelect):
        raise SqlppError("recursive_with semantics: one SELECT block after the last UNION")
    _check_step(step)
    return A.RecursiveWith(name, top.left, step, top.all, cycle, options)


def _check_step(step: A.SubSelect) -> None:
    """Refuse what Couchbase refuses in a recursive WITH's SELECT block."""
    if step.group_by is not None or step.having is not None:
        raise SqlppError("recursive_with semantics: Grouping is not allowed")
    for j in step.joins:
        if j.kind == "unnest":
            raise SqlppError("recursive_with_unsupported: UNNEST")
        if j.outer:
            raise SqlppError("recursive_with_unsupported: OUTER JOIN")
    for t in step.terms:
        if _has_aggregate(t.expr):
            raise SqlppError(
                "recursive_with semantics: Aggregates/Window functions are not allowed"
            )


def _reads_from(body: A.Node, name: str) -> bool:
    from_names: set[str] = set()
    idents(body, from_names)
    return name in from_names


def _refers_to(node: A.Node | A.SubSelect | A.SetOp | A.Select, name: str) -> bool:
    from_names: set[str] = set()
    used = idents(node, from_names)
    return name in from_names or name in used


def _has_aggregate(node: A.Node | None) -> bool:
    stack: list[object] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Call) and (n.name in AGGREGATES or n.over is not None):
            return True
        if isinstance(n, (list, tuple)):
            stack.extend(n)
        elif isinstance(n, A.Node) and not isinstance(n, A.Subquery):
            stack.extend(getattr(n, f) for f in type(n).__slots__)
    return False
