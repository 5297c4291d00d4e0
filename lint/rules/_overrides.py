"""Configuration classes: is a setting of a base class replaced in the production class?"""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._context import FileContext

#: A configuration class for production (``ProductionConfig``, ``ProdSettings``, ``Prod``).
PRODUCTION_CLASS = re.compile(r"(?i)prod")


def _assigned(cls: cst.ClassDef) -> set[str]:
    names: set[str] = set()
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets = (
                [t.target for t in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
                if isinstance(small, cst.AnnAssign)
                else []
            )
            names.update(t.value for t in targets if isinstance(t, cst.Name))
    return names


def _bases(cls: cst.ClassDef) -> list[str]:
    out: list[str] = []
    for base in cls.bases:
        value = base.value
        if isinstance(value, cst.Attribute):
            out.append(value.attr.value)
        elif isinstance(value, cst.Name):
            out.append(value.value)
    return out


def overridden_in_production(ctx: FileContext, statement: cst.CSTNode, key: str) -> bool:
    """``SECRET_KEY = os.urandom(64)`` in ``BaseConfig`` while ``class ProductionConfig(BaseConfig)``
    of the same module sets ``SECRET_KEY`` itself (or a class between the two does): production
    never runs the base class's value."""
    line = ctx.parents.get(statement) if not isinstance(statement, cst.SimpleStatementLine) else statement
    block = ctx.parents.get(line) if line is not None else None
    owner = ctx.parents.get(block) if block is not None else None
    if not isinstance(owner, cst.ClassDef):
        return False
    classes = {stmt.name.value: stmt for stmt in ctx.module.body if isinstance(stmt, cst.ClassDef)}
    if owner.name.value not in classes:
        return False

    def replaces(cls: cst.ClassDef, sets_key: bool, seen: frozenset[str]) -> bool:
        """``cls`` derives from ``owner`` and it, or a class between the two, sets ``key``."""
        sets_key = sets_key or key in _assigned(cls)
        for base in _bases(cls):
            if base == owner.name.value:
                if sets_key:
                    return True
                continue
            parent = classes.get(base)
            if parent is not None and base not in seen and replaces(parent, sets_key, seen | {base}):
                return True
        return False

    return any(
        PRODUCTION_CLASS.search(name) and cls is not owner and replaces(cls, False, frozenset({name}))
        for name, cls in classes.items()
    )
