"""The names a file binds, read from its syntax alone: imports, definitions, and the qualified
name of a dotted chain whose head is an unambiguous import (no scope analysis, which costs about as
much as parsing). ``FileContext`` mixes these in."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import libcst as cst


class Bindings:
    """Cheap, unscoped binding facts of one module (``module`` and ``nodes`` come from the host)."""

    module: cst.Module

    def nodes(self, *types: type[cst.CSTNode]) -> list[cst.CSTNode]:
        raise NotImplementedError

    def _fast_qname(self, node: cst.CSTNode) -> str | None:
        """The qualified name of a dotted chain whose head is an import that nothing else in the
        file rebinds, read from the import statements (no scope analysis, which costs about as
        much as parsing); ``None`` when only the full analysis can tell."""
        if self.star_import or not isinstance(node, cst.Name | cst.Attribute):
            return None
        parts: list[str] = []
        current: cst.CSTNode = node
        while isinstance(current, cst.Attribute):
            parts.append(current.attr.value)
            current = current.value
        if not isinstance(current, cst.Name):
            return None
        target = self.import_table.get(current.value)
        if target is None or current.value in self.defined:
            return None
        return ".".join([target, *reversed(parts)])

    @cached_property
    def import_table(self) -> Mapping[str, str]:
        """Local name -> qualified name for every import; a name imported twice differently is left
        out (only the full analysis can tell which binding applies)."""
        table: dict[str, str] = {}
        clashes: set[str] = set()
        for node in self.nodes(cst.Import, cst.ImportFrom):
            pairs: list[tuple[str, str]] = []
            if isinstance(node, cst.Import):
                for alias in node.names:
                    dotted = self.module.code_for_node(alias.name)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        pairs.append((alias.asname.name.value, dotted))
                    else:
                        pairs.append((dotted.split(".")[0], dotted.split(".")[0]))
            elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                if node.relative or node.module is None:
                    # ``from .no_limiter import Limiter`` beside ``from flask_limiter import
                    # Limiter``: only the scope analysis can tell which one a use refers to.
                    for alias in node.names:
                        bound = alias.asname.name if alias.asname is not None else alias.name
                        if isinstance(bound, cst.Name):
                            clashes.add(bound.value)
                    continue
                base = self.module.code_for_node(node.module)
                for alias in node.names:
                    name = self.module.code_for_node(alias.name)
                    local = (
                        alias.asname.name.value
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                        else name
                    )
                    pairs.append((local, f"{base}.{name}"))
            for local, qualified in pairs:
                if table.setdefault(local, qualified) != qualified:
                    clashes.add(local)
        for name in clashes:
            table.pop(name, None)
        return table

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Names bound by ``import x as y`` / ``from x import y as z``."""
        found: set[str] = set()
        for node in self.nodes(cst.ImportAlias):
            if (
                isinstance(node, cst.ImportAlias)
                and node.asname is not None
                and isinstance(node.asname.name, cst.Name)
            ):
                found.add(node.asname.name.value)
        return frozenset(found)

    @cached_property
    def imported(self) -> frozenset[str]:
        """Names bound by imports anywhere in the file (the local name of each import)."""
        found: set[str] = set()
        for node in self.nodes(cst.Import, cst.ImportFrom):
            if isinstance(node, cst.Import | cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        found.add(alias.asname.name.value)
                    else:
                        found.add(self.module.code_for_node(alias.name).split(".")[0])
        return frozenset(found)

    @cached_property
    def defined(self) -> frozenset[str]:
        """Names any function, class, assignment or parameter in the file binds (cheap, unscoped)."""
        found: set[str] = set()
        for node in self.nodes(cst.FunctionDef, cst.ClassDef, cst.Param, cst.AssignTarget):
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                found.add(node.name.value)
            elif isinstance(node, cst.Param | cst.AssignTarget):
                target = node.name if isinstance(node, cst.Param) else node.target
                if isinstance(target, cst.Name):
                    found.add(target.value)
        return frozenset(found)

    @cached_property
    def star_import(self) -> bool:
        return any(
            isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar)
            for node in self.nodes(cst.ImportFrom)
        )
