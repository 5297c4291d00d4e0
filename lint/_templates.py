"""Python config files that are Jinja templates (``config.cfg.template``): make them parse.

Template tags outside string literals (``X = {% if a %}"x"{% else %}"y"{% endif %}``) are blanked
with spaces, and ``{{ expr }}`` outside strings becomes ``None``, so every line keeps its number
and column. Tags inside strings are left for the rules, which read each branch as a value.
"""

from __future__ import annotations

import re

_TAG = re.compile(rb"\{%.*?%\}|\{\{.*?\}\}")
TEMPLATE_BRANCHES = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")


_IF_ELSE = re.compile(rb"(\{%-?\s*if\b.*?%\})(.*?)(\{%-?\s*else\s*-?%\}.*?\{%-?\s*endif\s*-?%\})")


def _first_branch(match: re.Match[bytes]) -> bytes:
    """``{% if a %}X{% else %}Y{% endif %}`` -> ``X`` padded to the same width."""
    return b" " * len(match.group(1)) + match.group(2) + b" " * len(match.group(3))


def _outside_strings(line: bytes, start: int) -> bool:
    before = line[:start]
    return before.count(b'"') % 2 == 0 and before.count(b"'") % 2 == 0


def untemplate(data: bytes) -> bytes:
    """``data`` with template tags outside string literals neutralised (same line layout)."""
    if b"{%" not in data and b"{{" not in data:
        return data
    out = []
    for raw in data.split(b"\n"):
        line = _IF_ELSE.sub(_first_branch, raw) if _outside_strings(raw, raw.find(b"{%")) else raw
        pieces = []
        last = 0
        for match in _TAG.finditer(line):
            if not _outside_strings(line, match.start()):
                continue
            tag = match.group(0)
            filler = b"None".ljust(len(tag)) if tag.startswith(b"{{") else b" " * len(tag)
            pieces += [line[last : match.start()], filler]
            last = match.end()
        pieces.append(line[last:])
        out.append(b"".join(pieces))
    return b"\n".join(out)


def branches(text: str) -> list[str]:
    """The literal pieces of a templated string value: ``"{% if r %}Redis{% else %}Simple{% endif %}"``
    -> ``["Redis", "Simple"]``."""
    return [piece for piece in TEMPLATE_BRANCHES.split(text) if piece]


def as_python(data: bytes) -> bytes | None:
    """A non-``.py`` source (``*.cfg``) as Python: template tags neutralised; ``None`` when it is
    not Python at all (an INI file), which is then skipped without a diagnostic."""
    import ast

    source = untemplate(data)
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return source
