"""What a file-writing call writes to: local paths, temporary files, scratch buffers (shared
helpers of the request-time file rule)."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._context import FileContext
from sessionkit.lint._vocab import UPLOAD_SETTING
from sessionkit.lint.rules._util import string_value, walk

WRITE_MODE = re.compile(r"[wax+]")
OPENERS = frozenset(
    {"open", "builtins.open", "io.open", "aiofiles.open", "codecs.open", "os.open"}
    | {"gzip.open", "bz2.open", "lzma.open"}
    | {"aiofile.async_open", "anyio.open_file", "trio.open_file"}
)
PATH_WRITERS = frozenset(
    {
        "write_text",
        "write_bytes",
        "save",
        "to_csv",
        "to_excel",
        "to_json",
        "to_parquet",
        "savefig",
        "save_as",
        "extractall",
    }
)
#: Calls that build a filesystem path.
PATH_BUILDERS = frozenset(
    {
        "os.path.join",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.dirname",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
    }
)
#: Library calls that write an object to the path given as their argument at that index
#: (``joblib.dump(state, "game_state")``, ``numpy.save("scores.npy", array)``).
DUMPERS = {"joblib.dump": 1, "numpy.save": 0, "numpy.savez": 0, "numpy.savetxt": 0, "torch.save": 1}
SHUTIL_WRITERS = frozenset({"shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move"})
#: Moves on the local disk (a removal or a new folder belongs to the write it undoes or precedes,
#: which is the finding).
FS_MOVERS = frozenset({"os.rename", "os.replace", "os.renames"})
#: The same on a path object: ``folder.rename(new_name)``.
PATH_MOVERS = frozenset({"rename", "replace"})
#: Path methods returning a path: ``(root / name).with_suffix(".md")``.
PATH_OPS = frozenset({"joinpath", "with_suffix", "with_name", "resolve", "expanduser"})
RECEIVER_WRITES = frozenset({"open"})
#: Removals: reported where a function removes a stored file and writes none (a removal beside a
#: write in the same function undoes or replaces it: the write is the finding).
REMOVERS = frozenset({"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree"})
PATH_REMOVERS = frozenset({"unlink", "rmtree", "rmdir"})
#: Calls listing a folder: ``for f in (root / name).glob("*"): f.unlink()`` removes stored files.
LISTINGS = frozenset({"glob", "rglob", "iterdir", "scandir", "iglob"})
TEMP_HINT = re.compile(r"(?i)tmp|temp")
CACHE_HINT = re.compile(r"(?i)cache")
#: Buffers in memory that a "save" writes to.
IN_MEMORY = ("BytesIO", "StringIO")
PATH_NAMES = re.compile(r"(?i)path|dest|file|target|out|dir|folder")
#: A write under the upload folder is an upload, whoever calls the function.
#: A literal path into an upload folder (``f"./static/upload/{user}"``, ``"uploads/"``).
UPLOAD_LITERAL = re.compile(r"""(?i)["'/]uploads?/""")
UPLOAD_ROOTS = re.compile(
    rf"{UPLOAD_SETTING}|(?i:\b(settings|config|conf|cfg)\.\w*(upload|storage|media|image|photo|avatar|attachment)\w*(dir|folder|path|root)\b)"
)


class PathChecks:
    """Path and destination checks on the calls of one file (``ctx``)."""

    ctx: FileContext

    def _local_storage(self, node: cst.BaseExpression) -> bool:
        """``FileSystemStorage()`` (Django's local storage), or a name bound to it in the function."""
        if isinstance(node, cst.Name):
            bound = self._bound_in_function(node)
            node = bound if bound is not None else node
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        return name == "FileSystemStorage"

    def _pathlike(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString):
            return True
        if isinstance(node, cst.BinaryOperation):
            return True
        func = node.func if isinstance(node, cst.Call) else None
        if isinstance(func, cst.Attribute) and func.attr.value in PATH_OPS:
            return True
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            # ``r"{0}".format(pdf_path)``: a path built by string formatting
            return isinstance(func.value, cst.SimpleString | cst.ConcatenatedString)
        if isinstance(node, cst.Call):
            return self.ctx.refers_to(node.func, PATH_BUILDERS)
        if isinstance(node, cst.Name):
            bound = self._bound_in_function(node)  # ``ruta = os.path.join(...)`` then ``f.save(ruta)``
            if isinstance(bound, cst.Call) and _callee(bound).endswith(IN_MEMORY):
                return False  # ``output = BytesIO()`` then ``image.save(output)``: no file
            if PATH_NAMES.search(node.value) or self._listed(node):
                return True
            return bound is not None and not isinstance(bound, cst.Name) and self._pathlike(bound)
        if isinstance(node, cst.Attribute):  # ``f.save(f.filename)``, ``save(form.dest)``
            return bool(PATH_NAMES.search(node.attr.value))
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:  # ``os.remove(img["path"])``
            index = node.slice[0].slice
            key = string_value(index.value) if isinstance(index, cst.Index) else None
            return key is not None and bool(PATH_NAMES.search(key))
        return False

    def _listed(self, name: cst.Name) -> bool:
        return self._listing(name) is not None

    def _listing(self, name: cst.BaseExpression) -> cst.Call | None:
        """The folder listing (``path.glob("*")``, ``os.scandir(root)``, ``glob.glob(pattern)``)
        that a ``for`` loop binds ``name`` to, if it does."""
        if not isinstance(name, cst.Name):
            return None
        for loop in self.ctx.ancestors(name):
            if not isinstance(loop, cst.For) or not isinstance(loop.target, cst.Name):
                continue
            if loop.target.value == name.value:
                found = loop.iter
                return found if isinstance(found, cst.Call) and _callee(found) in LISTINGS else None
        return None

    def _opens(self, node: cst.Call) -> bool:
        """``open(...)`` (also when shadowed by a star import) or another opener of a file."""
        func = node.func
        return self.ctx.calls(node, OPENERS) or (isinstance(func, cst.Name) and func.value == "open")

    def _mode(self, node: cst.Call) -> str | None:
        """The literal mode of an ``open(path, mode)``-style call."""
        mode = next((a.value for a in node.args[1:2] if a.keyword is None), None)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "mode":
                mode = arg.value
        return string_value(mode)

    def _touch(self, node: cst.Call) -> bool:
        """``with open(path, "w"): pass``: an empty file is created, no data is written."""
        item = self.ctx.parents.get(node)
        statement = self.ctx.parents.get(item) if isinstance(item, cst.WithItem) else None
        if not isinstance(statement, cst.With) or not isinstance(statement.body, cst.IndentedBlock):
            return False
        body = statement.body.body
        return (
            len(body) == 1
            and isinstance(body[0], cst.SimpleStatementLine)
            and all(isinstance(small, cst.Pass) for small in body[0].body)
        )

    def _bound_in_function(self, name: cst.Name) -> cst.BaseExpression | None:
        """The value of the single plain assignment to ``name`` in the enclosing function."""
        functions = self.ctx.enclosing_functions(name)
        if not functions:
            return None
        values = [
            stmt.value
            for stmt in walk(functions[0].body)
            if isinstance(stmt, cst.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0].target, cst.Name)
            and stmt.targets[0].target.value == name.value
        ]
        return values[0] if len(values) == 1 else None

    def _destination(self, node: cst.Call) -> cst.Arg | None:
        """The argument naming the written file (for copies and moves the second)."""
        args = [a for a in node.args if a.keyword is None]
        if self.ctx.calls(node, SHUTIL_WRITERS) and len(args) > 1:
            return args[1]
        for name, index in DUMPERS.items():
            if len(args) > index and self.ctx.calls(node, {name}):
                return args[index]
        return node.args[0] if node.args else None

    def _destination_code(self, node: cst.Call) -> str:
        """The call's source plus the values its destination variable was given in the function
        (two steps: ``file_path = f"{save_path}/{name}"`` with ``save_path = "static/upload"``)."""
        code = self.ctx.module.code_for_node(node)
        destination = self._destination(node)
        names = (
            [destination.value] if destination is not None and isinstance(destination.value, cst.Name) else []
        )
        for _ in range(2):
            found: list[cst.Name] = []
            for name in names:
                bound = self._bound_in_function(name)
                if bound is not None:
                    code += "\n" + self.ctx.module.code_for_node(bound)
                    found.extend(n for n in walk(bound) if isinstance(n, cst.Name))
            names = found
        return code

    def _temporary(self, node: cst.Call) -> bool:
        """The written file is a temporary one (``tempfile``, a ``tmp`` path): for copies and
        moves, judged by the destination, not the source. A file opened to append to is not
        scratch, whatever its name: it outlives the call that adds to it (an upload in chunks)."""
        if self._opens(node) and "a" in (self._mode(node) or ""):
            return False
        func = node.func
        writes_self = isinstance(func, cst.Attribute) and func.attr.value in RECEIVER_WRITES
        receiver = func.value if isinstance(func, cst.Attribute) and writes_self else None
        if receiver is not None and TEMP_HINT.search(self.ctx.module.code_for_node(receiver)):
            return True
        destination = self._destination(node)
        if destination is None:
            return False
        uses_tempfile = any(q.startswith("tempfile") for q in self.ctx.import_table.values())
        for sub in walk(destination) if uses_tempfile or self.ctx.star_import else ():
            if isinstance(sub, cst.Name | cst.Attribute) and any(
                n.startswith("tempfile.") for n in self.ctx.qnames(sub)
            ):
                return True
        return bool(TEMP_HINT.search(self.ctx.module.code_for_node(destination.value)))


def _callee(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
