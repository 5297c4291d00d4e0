"""Diagnostics about inputs the linter could not analyse. The run always goes on."""

from __future__ import annotations

from dataclasses import dataclass

from sessionkit.lint._types import Finding, Remedy, Severity


@dataclass(frozen=True)
class Diagnostic:
    """Metadata of one input problem; shaped like a rule so reporters treat both alike."""

    code: str
    name: str
    severity: Severity
    message: str
    fix_hint: str
    category: str = "input"
    #: The JSON contract allows only the three remedies; an input problem is fixed in the file.
    remedy: Remedy = "refactor"
    description: str = ""

    def finding(self, path: str, detail: str = "", line: int = 1, column: int = 0) -> Finding:
        message = f"{self.message}: {detail}" if detail else self.message
        return Finding(
            path=path,
            line=line,
            column=column + 1,
            code=self.code,
            category=self.category,
            severity=self.severity,
            remedy=self.remedy,
            end_line=line,
            end_column=column + 1,
            message=message,
            fix_hint=self.fix_hint,
        )


SYNTAX_ERROR = Diagnostic(
    "SK001",
    "syntax-error",
    "warning",
    "file could not be parsed, so it was not checked",
    "Fix the syntax error, or exclude the file with `extend-exclude`.",
)
PYTHON2 = Diagnostic(
    "SK002",
    "python2-source",
    "warning",
    "file looks like Python 2 source and was not checked",
    "Port the file to Python 3, or exclude it with `extend-exclude`.",
)
NOT_UTF8 = Diagnostic(
    "SK003",
    "not-utf8",
    "warning",
    "file is not valid UTF-8 (nor in its declared encoding)",
    "Re-encode the file as UTF-8, or exclude it.",
)
BINARY = Diagnostic(
    "SK004",
    "binary-file",
    "info",
    "file is binary, not Python source; skipped",
    "Exclude the file with `extend-exclude`.",
)
UNREADABLE = Diagnostic(
    "SK005",
    "unreadable",
    "warning",
    "file could not be read",
    "Check the file's permissions, or exclude it.",
)
TOO_LARGE = Diagnostic(
    "SK006",
    "too-large",
    "info",
    "file is larger than the size limit and was skipped",
    "Raise `max-file-size` in [tool.sessionkit.lint] or exclude the (probably generated) file.",
)
SYMLINK_LOOP = Diagnostic(
    "SK007",
    "symlink-loop",
    "warning",
    "symbolic link loop; not followed",
    "Remove the looping link, or exclude it.",
)
INTERNAL_ERROR = Diagnostic(
    "SK008",
    "internal-error",
    "warning",
    "a rule failed on this file; other rules still ran",
    "Please report this with the file attached; exclude the file meanwhile.",
)
ABORTED = Diagnostic(
    "SK009",
    "analysis-aborted",
    "warning",
    "the analysis of this file was stopped (parser crash, time or memory limit), so it was not checked",
    "Exclude the (probably generated) file, or raise `file-timeout`/`file-memory-mb`; please report it.",
)

ALL_DIAGNOSTICS: tuple[Diagnostic, ...] = (
    SYNTAX_ERROR,
    PYTHON2,
    NOT_UTF8,
    BINARY,
    UNREADABLE,
    TOO_LARGE,
    SYMLINK_LOOP,
    INTERNAL_ERROR,
    ABORTED,
)
