"""Errors raised by the SQL++ engine; every one is a SqlppError."""

from __future__ import annotations


class SqlppError(Exception):
    """A SQL++ statement failed to parse, plan or run."""


class SqlppSyntaxError(SqlppError):
    """The statement text is not valid SQL++ (message carries line and column)."""

    def __init__(self, message: str, text: str = "", pos: int = 0) -> None:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        self.line, self.column = line, col
        super().__init__(f"syntax error at line {line}, column {col}: {message}")


class SqlppNotSupported(SqlppError):
    """A valid construct the embedded engine does not implement."""


class SqlppLimitExceeded(SqlppError):
    """The statement went over one of its limits: ``limit`` is "time" or "memory".

    ``code`` is the Couchbase error code of the same refusal (1080 timeout, 5500 memory
    quota, 5037 size of one value).
    """

    def __init__(self, message: str, limit: str, code: int) -> None:
        super().__init__(message)
        self.limit, self.code = limit, code


class SqlppTimeout(SqlppLimitExceeded):
    """The statement ran past its deadline."""

    def __init__(self, message: str = "query timed out (deadline passed)") -> None:
        super().__init__(message, "time", 1080)


class SqlppReadOnly(SqlppError):
    """A statement that would change data was refused in read-only mode."""
