"""Pratt parser for SQL++ expressions: operators, paths, literals, CASE, comprehensions."""

from __future__ import annotations

from catalog.sqlpp import ast as A
from catalog.sqlpp.errors import SqlppError, SqlppSyntaxError
from catalog.sqlpp.functions import AGGREGATES, FUNCTIONS
from catalog.sqlpp.keywords import RESERVED, RESERVED_ALIAS, RESERVED_FUNCTION
from catalog.sqlpp.lexer import Token, tokenize
from catalog.sqlpp.window import WINDOW_FUNCTIONS

_FRAME_UNITS = ("ROWS", "RANGE", "GROUPS")

# Nesting guards: the parser recurses once per nesting level, the evaluator per tree level.
MAX_PARSE_DEPTH = 100
MAX_TREE_DEPTH = 150

_CMP_OPS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_BP_OR, _BP_AND, _BP_NOT, _BP_CMP, _BP_CONCAT, _BP_ADD, _BP_MUL, _BP_UNARY, _BP_POST = range(1, 10)


class ExprParser:
    """Token cursor plus the expression grammar; the statement grammar builds on it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0
        self.qmarks = 0

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def fail(self, msg: str, tok: Token | None = None) -> None:
        raise SqlppSyntaxError(msg, self.text, (tok or self.peek()).pos)

    def describe(self, t: Token) -> str:
        if t.kind == "eof":
            return "end of statement"
        if t.kind == "str":
            return "string " + repr(t.value)[:40]
        return repr(str(t.value))[:40]

    def is_kw(self, *words: str, k: int = 0) -> bool:
        return self.peek(k).upper in words

    def accept_kw(self, *words: str) -> bool:
        if self.peek().upper in words:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            self.fail(f"expected {word}, found {self.describe(self.peek())}")

    def is_op(self, op: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "op" and t.value == op

    def accept_op(self, op: str) -> bool:
        if self.is_op(op):
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            self.fail(f"expected '{op}', found {self.describe(self.peek())}")

    def ident(self, what: str = "identifier") -> tuple[str, bool]:
        t = self.peek()
        if t.kind == "qid":
            self.i += 1
            return t.value, t.ci
        if t.kind == "id" and t.upper not in RESERVED_ALIAS:
            self.i += 1
            return t.value, False
        self.fail(f"expected {what}, found {self.describe(t)}")
        raise AssertionError

    def opt_alias(self) -> str | None:
        if self.accept_kw("AS"):
            return self.ident("alias")[0]
        t = self.peek()
        if t.kind == "qid" or (t.kind == "id" and t.upper not in RESERVED_ALIAS):
            return self.ident()[0]
        return None

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_PARSE_DEPTH:
            raise SqlppError("expression nested too deeply")

    def paren_body(self) -> A.Node:
        """Parse what follows '(' up to ')': a subquery or an expression."""
        if self.starts_query():
            q = self.fullselect()
            self.expect_op(")")
            return A.Subquery(q)
        e = self.expr()
        self.expect_op(")")
        return e

    def starts_query(self) -> bool:
        k = 0
        while self.is_op("(", k):
            k += 1
        return self.is_kw("SELECT", "WITH", "FROM", k=k)

    def expr(self, min_bp: int = 0) -> A.Node:
        self.enter()
        left = self.prefix()
        while True:
            t = self.peek()
            bp, negate, kw = self.infix_bp(t)
            if bp <= min_bp:
                break
            left = self.infix(left, t, bp, negate, kw)
        self.depth -= 1
        return left

    def infix_bp(self, t: Token) -> tuple[int, bool, str]:
        if t.kind == "op":
            v = t.value
            if v in _CMP_OPS:
                return _BP_CMP, False, v
            if v == "||":
                return _BP_CONCAT, False, v
            if v in ("+", "-"):
                return _BP_ADD, False, v
            if v in ("*", "/", "%"):
                return _BP_MUL, False, v
            if v == "." and self.is_op("*", 1):
                return 0, False, ""
            if v in (".", "["):
                return _BP_POST, False, v
            return 0, False, ""
        u = t.upper
        if u == "OR":
            return _BP_OR, False, u
        if u == "AND":
            return _BP_AND, False, u
        if u in ("LIKE", "BETWEEN", "IN", "WITHIN", "IS"):
            return _BP_CMP, False, u
        if u == "NOT" and self.peek(1).upper in ("LIKE", "BETWEEN", "IN", "WITHIN"):
            return _BP_CMP, True, self.peek(1).upper
        return 0, False, ""

    def infix(self, left: A.Node, t: Token, bp: int, negate: bool, kw: str) -> A.Node:
        self.next()
        if negate:
            self.next()
        if kw in ("AND", "OR"):
            right = self.expr(bp)
            op = kw.lower()
            if isinstance(left, A.Logic) and left.op == op:
                left.operands.append(right)
                return left
            return A.Logic(op, [left, right])
        if kw in _CMP_OPS:
            return A.Binary(_CMP_OPS[kw], left, self.expr(bp))
        if kw == "||":
            right = self.expr(bp)
            if isinstance(left, A.Call) and left.name == "||":
                left.args.append(right)
                return left
            return A.Call("||", [left, right])
        if kw in ("+", "-", "*", "/", "%"):
            return A.Binary(kw, left, self.expr(bp))
        if kw == ".":
            return self.dot(left)
        if kw == "[":
            return self.bracket(left)
        if kw == "LIKE":
            pat = self.expr(bp)
            esc = self.expr(bp) if self.accept_kw("ESCAPE") else None
            return A.Like(left, pat, esc, negate)
        if kw == "BETWEEN":
            low = self.expr(bp)
            self.expect_kw("AND")
            return A.Between(left, low, self.expr(bp), negate)
        if kw in ("IN", "WITHIN"):
            return A.InList(left, self.expr(bp), negate, kw == "WITHIN")
        if kw == "IS":
            neg = self.accept_kw("NOT")
            w = self.next().upper
            if w == "KNOWN":
                w = "VALUED"
            if w not in ("NULL", "MISSING", "VALUED", "UNKNOWN"):
                self.fail("expected NULL, MISSING, VALUED or KNOWN after IS", self.peek(-1))
            return A.Is(left, w.lower(), neg)
        self.fail("unexpected " + self.describe(t), t)
        raise AssertionError

    def dot(self, left: A.Node) -> A.Node:
        if self.accept_op("["):
            name = self.expr()
            self.expect_op("]")
            return A.DynField(left, name)
        t = self.peek()
        if t.kind == "qid" or (t.kind == "id" and t.upper not in RESERVED):
            self.i += 1
            return A.Field(left, t.value, t.ci)
        if t.kind == "id":
            self.fail(f"{t.value} is a reserved word: escape it as `{t.value}` after '.'", t)
        self.fail("expected a field name after '.'")
        raise AssertionError

    def bracket(self, left: A.Node) -> A.Node:
        if self.accept_op("]"):
            return A.ArrayStar(left)
        if self.is_op("*") and self.is_op("]", 1):
            self.i += 2
            return A.ArrayStar(left)
        start = None if self.is_op(":") else self.expr()
        if self.accept_op(":"):
            end = None if self.is_op("]") else self.expr()
            self.expect_op("]")
            return A.Slice(left, start, end)
        self.expect_op("]")
        assert start is not None
        return A.Index(left, start)

    def prefix(self) -> A.Node:
        t = self.next()
        k = t.kind
        if k == "num" or k == "str":
            return A.Lit(t.value)
        if k == "param":
            return A.Param(t.value)
        if k == "qid":
            if self.is_op("("):
                return self.call(t)
            return A.Ident(t.value, t.ci)
        if k == "op":
            v = t.value
            if v == "(":
                return self.paren_body()
            if v == "[":
                items: list[A.Node] = []
                if not self.accept_op("]"):
                    while True:
                        items.append(self.expr())
                        if self.accept_op("]"):
                            break
                        self.expect_op(",")
                return A.ArrayCons(items)
            if v == "{":
                return self.object_cons()
            if v == "-":
                e = self.expr(_BP_UNARY)
                if isinstance(e, A.Lit) and type(e.value) in (int, float):
                    return A.Lit(-e.value)
                return A.Unary("neg", e)
            if v == "+":
                return self.expr(_BP_UNARY)
            if v == "?":
                self.qmarks += 1
                return A.Param(self.qmarks)
            self.fail("unexpected " + self.describe(t), t)
        if k == "eof":
            self.fail("unexpected end of statement", t)
        u = t.upper
        if u == "TRUE":
            return A.Lit(True)
        if u == "FALSE":
            return A.Lit(False)
        if u == "NULL":
            return A.Lit(None)
        if u == "MISSING":
            from catalog.sqlpp.values import MISSING

            return A.Lit(MISSING)
        if u == "NOT":
            return A.Unary("not", self.expr(_BP_NOT))
        if u == "EXISTS":
            return A.Exists(self.expr(_BP_UNARY))
        if u == "CASE":
            return self.case()
        if u in ("ANY", "SOME", "EVERY"):
            kind = "every" if u == "EVERY" else "any"
            if kind == "any" and self.is_kw("AND") and self.is_kw("EVERY", k=1):
                self.i += 2
                kind = "anyevery"
            binds = self.for_bindings()
            self.expect_kw("SATISFIES")
            cond = self.expr()
            self.expect_kw("END")
            return A.Quantified(kind, binds, cond)
        if u in ("ARRAY", "FIRST", "OBJECT"):
            key = None
            e = self.expr()
            if u == "OBJECT":
                self.expect_op(":")
                key, e = e, self.expr()
            self.expect_kw("FOR")
            binds = self.for_bindings()
            when = self.expr() if self.accept_kw("WHEN") else None
            self.expect_kw("END")
            return A.Comprehension(u.lower(), e, binds, when, key)
        if self.is_op("("):
            if u in RESERVED_FUNCTION:
                self.fail(f"unexpected keyword {t.value}", t)
            return self.call(t)
        if u == "SELF":
            return A.Ident(t.value)
        if u in RESERVED:
            self.fail(
                f"unexpected keyword {t.value} (a reserved word: escape it as `{t.value}`)", t
            )
        return A.Ident(t.value)

    def call(self, t: Token) -> A.Node:
        self.expect_op("(")
        c = A.Call(t.value.lower(), [], pos=t.pos)
        if self.accept_op("*"):
            c.star = True
        elif not self.is_op(")"):
            if self.accept_kw("DISTINCT"):
                c.distinct = True
            else:
                self.accept_kw("ALL")
            while True:
                c.args.append(self.expr())
                if not self.accept_op(","):
                    break
        self.expect_op(")")
        if self.is_kw("FILTER") and self.is_op("(", 1):
            self.i += 2
            self.expect_kw("WHERE")
            c.filter = self.expr()
            self.expect_op(")")
        while self.peek().upper in ("RESPECT", "IGNORE", "FROM"):
            if self.peek().upper == "FROM" and not self.is_kw("FIRST", "LAST", k=1):
                break
            word, what = self.next().upper, self.next().upper
            if word == "FROM":
                c.from_last = what == "LAST"
            else:
                if what != "NULLS":
                    self.fail(f"expected NULLS after {word}")
                c.ignore_nulls = word == "IGNORE"
        if self.accept_kw("OVER"):
            c.over = self.window_spec()
        self.check_function(c, t)
        return c

    def window_spec(self) -> A.Window:
        """Parse what follows OVER: a window name, or ( [name] [PARTITION BY] [ORDER BY] [frame] )."""
        if not self.is_op("("):
            return A.Window(ref=self.ident("window name")[0])
        self.next()
        w = A.Window()
        t = self.peek()
        if t.kind == "qid" or (
            t.kind == "id" and t.upper not in RESERVED_ALIAS and t.upper not in _FRAME_UNITS
        ):
            w.ref = self.ident()[0]
        if self.accept_kw("PARTITION"):
            self.expect_kw("BY")
            w.partition.append(self.expr())
            while self.accept_op(","):
                w.partition.append(self.expr())
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            w.order = self.order_terms()  # type: ignore[attr-defined]
        if self.is_kw(*_FRAME_UNITS):
            unit = self.next().upper.lower()
            if self.accept_kw("BETWEEN"):
                start = self.frame_bound()
                self.expect_kw("AND")
                end = self.frame_bound()
            else:
                start, end = self.frame_bound(), ("current", None)
            w.frame = A.Frame(unit, start, end)
            if self.accept_kw("EXCLUDE"):
                if self.accept_kw("CURRENT"):
                    self.expect_kw("ROW")
                    w.frame.exclude = "current row"
                elif self.accept_kw("GROUP"):
                    w.frame.exclude = "group"
                elif self.accept_kw("TIES"):
                    w.frame.exclude = "ties"
                else:
                    self.expect_kw("NO")
                    self.expect_kw("OTHERS")
        self.expect_op(")")
        return w

    def frame_bound(self) -> tuple[str, A.Node | None]:
        if self.accept_kw("UNBOUNDED"):
            if self.accept_kw("PRECEDING"):
                return ("unbounded preceding", None)
            self.expect_kw("FOLLOWING")
            return ("unbounded following", None)
        if self.accept_kw("CURRENT"):
            self.expect_kw("ROW")
            return ("current", None)
        e = self.expr()
        if self.accept_kw("PRECEDING"):
            return ("preceding", e)
        self.expect_kw("FOLLOWING")
        return ("following", e)

    def check_function(self, c: A.Call, t: Token) -> None:
        """Refuse an unknown function or a wrong argument count, as Couchbase's parser does."""
        name = c.name
        if name in AGGREGATES or name in WINDOW_FUNCTIONS or name == "meta":
            return
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.fail(f"invalid function {t.value}", t)
            return
        _, lo, hi = spec
        if len(c.args) < lo or (hi is not None and len(c.args) > hi):
            want = str(lo) if lo == hi else f"{lo} to {hi if hi is not None else 'any'}"
            self.fail(f"function {name.upper()}() takes {want} arguments, got {len(c.args)}", t)

    def for_bindings(self) -> list[A.Binding]:
        out = []
        while True:
            name = self.ident("variable")[0]
            pos_var = None
            if self.accept_op(":"):
                pos_var, name = name, self.ident("variable")[0]
            if self.accept_kw("IN"):
                within = False
            elif self.accept_kw("WITHIN"):
                within = True
            else:
                self.fail("expected IN or WITHIN")
            out.append(A.Binding(name, self.expr(), pos_var, within))
            if not self.accept_op(","):
                return out

    def case(self) -> A.Node:
        subject = None if self.is_kw("WHEN") else self.expr()
        whens = []
        while self.accept_kw("WHEN"):
            cond = self.expr()
            self.expect_kw("THEN")
            whens.append((cond, self.expr()))
        if not whens:
            self.fail("expected WHEN")
        default = self.expr() if self.accept_kw("ELSE") else None
        self.expect_kw("END")
        return A.Case(subject, whens, default)

    def object_cons(self) -> A.Node:
        pairs: list[tuple[A.Node, A.Node]] = []
        if self.accept_op("}"):
            return A.ObjectCons(pairs)
        while True:
            k = self.expr()
            if self.accept_op(":"):
                pairs.append((k, self.expr()))
            else:
                name = implicit_name(k)
                if name is None:
                    self.fail("object member needs a name (name: value)")
                pairs.append((A.Lit(name), k))
            if self.accept_op("}"):
                return A.ObjectCons(pairs)
            self.expect_op(",")


def implicit_name(e: A.Node) -> str | None:
    """Return the name N1QL gives a projected expression without an alias."""
    if isinstance(e, A.Ident):
        return e.name
    if isinstance(e, A.Field):
        if isinstance(e.base, A.Call) and e.base.name == "meta":
            return e.name
        return e.name
    if isinstance(e, A.Call) and e.name == "meta":
        return None
    return None


def _default_alias(e: A.Node) -> str | None:
    if isinstance(e, (A.Ident, A.Field)):
        return e.name
    return None
