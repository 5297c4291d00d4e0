"""The project's own call graph across files, read lexically (no parse, so it costs a regex pass).

A module that handles requests (the handler vocabulary where it serves: a route decorator, a
request parameter, a registration call, a class-based view) and calls, inside a function
body, a function it imported from another module of the project makes that function run at
request time. Per file this records *which imported names are called in function bodies*
(:func:`scan`); the cross-file phase joins those records with the functions that change
process-wide state but are not request handlers themselves (:func:`reached`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sessionkit.lint._vocab import (
    ROUTE_ATTRS,
    SERVES_PATTERN,
    STARTUP_NAMES,
    STARTUP_PREFIXES,
    UPLOAD_SETTING,
    WEBSOCKET_ATTRS,
)

#: A module that serves requests: a route decorator, a request parameter, a registration call...
#: (not merely the word ``request`` in a docstring or an HTTP client call).
_HANDLER = re.compile(SERVES_PATTERN.encode())
_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.M)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([\w. \t,]+)", re.M)
_LINE = re.compile(rb"^([ \t]*)(?:async[ \t]+)?(def[ \t]+(\w+)|if[ \t]+__name__\b)?[^\n]*", re.M)
#: ``name(``, ``module.name(`` or ``package.module.name(`` (after ``import package.module``).
_CALL = re.compile(rb"(?<![\w.])(\w+(?:\.\w+){0,2})\s*\(")
#: A route decorator (``@bp.route("/")``, ``@app.post(...)``): the function below it handles
#: requests whatever its name (``register_account`` is not a ``register_*`` setup hook).
_ROUTE_WORDS = b"|".join(sorted(a.encode() for a in ROUTE_ATTRS | WEBSOCKET_ATTRS))
_ROUTE_DECORATOR = re.compile(rb"^[ \t]*@[ \t]*[\w.]*\.(?:" + _ROUTE_WORDS + rb")\(")
_NOT_CALLS = frozenset({"if", "elif", "while", "for", "return", "yield", "await", "not", "and", "or", "in"})
#: ``broker = Broker(...)`` at module level, or ``app.events = EventManager()`` anywhere.
_INSTANCE = re.compile(rb"^([ \t]*)([\w.]+)[ \t]*(?::[^=\n]+)?=[ \t]*([A-Z]\w*)[ \t]*\(", re.M)
_METHOD = re.compile(rb"\.(\w+)\s*\(")
#: Evidence that the project stores uploads: a Django file/image field, or a module that names
#: the upload folder and writes, saves, copies or moves a file.
_UPLOAD_FIELD = re.compile(
    rb"(FileField|ImageField)\s*\(|\bupload_to\s*=|FileSystemStorage\([^)\n]*\)\.save\(|default_storage\.save\("
)
_UPLOAD_ROOT = re.compile(UPLOAD_SETTING.encode())
#: A Django model (or another ORM's): the project's models are in view, so a project without file
#: fields can be told from one whose models were not linted.
#: An extension attached to the app: ``limiter.init_app(app)``, ``app.state.limiter = limiter``.
_ATTACH = re.compile(rb"\b(\w+)\.init_app\(|\.limiter[ \t]*=[ \t]*(\w+)")
#: ``@limiter.limit("5/minute")``: slowapi checks limits in the decorator itself.
_LIMIT_DECORATOR = re.compile(rb"^[ \t]*@[ \t]*(\w+)\.(?:limit|shared_limit)\(", re.M)
_MODEL = re.compile(rb"^class[ \t]+\w+\([^)\n]*\bModel\)", re.M)
_WRITE = re.compile(
    rb"\.save\(\s*[\w'\"]|shutil\.(copy|move)|open\([^)\n]*['\"][rbt]*[wax]|write_(bytes|text)\("
)
_START = re.compile(rb"^([ \t]*(?:await[ \t]+)?)(\w+(?:\.\w+)*)\.start\(\)", re.M)
_CLASS = re.compile(rb"^class[ \t]+(\w+)", re.M)
_DEF = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
#: A class, or a container literal assigned in a class body (first indentation level).
_CLASS_ATTR = re.compile(rb"^(?:class[ \t]+(\w+)|(?:    |\t)(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*[\[{])", re.M)
_APP_OBJECT = re.compile(rb"(app|application|current_app)\.")


def scan(data: bytes) -> dict[str, Any]:
    """The file's part of the call graph, ``{}`` when it has none.

    ``calls`` (modules that handle requests only): ``[[module, symbol], ...]``, ``module`` spelled
    as imported (leading dots for relative imports), ``symbol`` the name called (``add_item``) or
    ``name.attr`` for a call on an imported object or module (``manager.connect``,
    ``services.add_item``); star imports record every called bare name. ``methods`` (same modules):
    the method names called in function bodies (``.subscribe(``). ``starts``: ``name.start()``
    on an imported object, with its position (see :func:`_starts`). ``uploads``: the file shows
    that the project stores uploads (a file/image model field, or it names the upload folder and
    writes a file). ``instances``: classes
    instantiated into a module-level name or an attribute (``broker = Broker()``,
    ``app.events = EventManager()``), as ``[module, class]``, module ``""`` for a class of this file.
    ``stored``: classes whose instances a method keeps in its own object (``self.games[k] =
    Game()``) or in a class attribute (``Server.parties.append(Party())``), as ``[module, class,
    keeper]`` (see :func:`_stored_by_objects`). ``writes``: where methods change their own object
    (see :func:`_object_writes`).
    """
    out: dict[str, Any] = {}
    held = _class_containers(data)
    if held:
        out["class_containers"] = held
    writes = _object_writes(data) if b"self." in data else []
    if writes:
        out["writes"] = writes
    if b"import" not in data:
        return out
    imported = _imports(data)
    if _UPLOAD_FIELD.search(data) or (_UPLOAD_ROOT.search(data) and _WRITE.search(data)):
        out["uploads"] = 1
    if _MODEL.search(data):
        out["models"] = 1
    if b"init_app" in data or b".limiter" in data:
        attached = sorted({(a or b).decode() for a, b in _ATTACH.findall(data)})
        if attached:
            out["attached"] = attached
    if b"limit(" in data:
        decorated = sorted({name.decode() for name in _LIMIT_DECORATOR.findall(data)})
        if decorated:
            out["limit_decorators"] = decorated
    instances = _instances(data, imported)
    if instances:
        out["instances"] = instances
    stored = _stored_by_objects(data, imported)
    if stored:
        out["stored"] = stored
    if not imported:
        return out
    starts = _starts(data, imported)
    if starts:
        out["starts"] = starts
    lines = _body_lines(data)
    if _HANDLER.search(data) is None:
        # Not a handler module: which imported functions each of its functions calls, so
        # request time reaches through helpers of helpers (``views -> services -> storage``).
        by_function: dict[str, list[bytes]] = {}
        for owner, line in lines:
            if owner is not None:
                by_function.setdefault(owner, []).append(line)
        local = {m.decode() for m in _DEF.findall(data)}
        fcalls = {
            name: found
            for name, body in by_function.items()
            if (found := _calls(body, imported, local - {name}))
        }
        if fcalls:
            out["fcalls"] = fcalls
        # The method names each function calls: a method of a kept object that a helper
        # reached from a handler calls runs at request time too (see ``_instances_and_callers``).
        fmethods = {
            name: found
            for name, body in by_function.items()
            if (found := sorted({m.decode() for line in body for m in _METHOD.findall(line)}))
        }
        if fmethods:
            out["fmethods"] = fmethods
        return out
    calls = _calls([line for _, line in lines], imported)
    if calls:
        out["calls"] = calls
    methods = sorted({m.decode() for _, line in lines for m in _METHOD.findall(line)})
    if methods:
        out["methods"] = methods
    return out


def _imports(data: bytes) -> dict[str, tuple[str, str]]:
    """Local name -> (module, imported name or ""); star imports under ``"*"`` + module."""
    imported: dict[str, tuple[str, str]] = {}
    for match in _FROM.finditer(data):
        module = match.group(1).decode()
        names = match.group(2).decode().strip("() \t\r\n\\")
        if names == "*":
            imported[f"*{module}"] = (module, "*")
            continue
        for part in names.replace("\\\n", " ").split(","):
            words = part.split()
            if not words:
                continue
            local = words[-1] if len(words) == 3 and words[1] == "as" else words[0]
            imported[local] = (module, words[0])
    for match in _IMPORT.finditer(data):
        for part in match.group(1).decode().split(","):
            words = part.split()
            if len(words) == 3 and words[1] == "as":
                imported[words[2]] = (words[0], "")
            elif len(words) == 1:
                imported[words[0].split(".")[0]] = (words[0].split(".")[0], "")
    return imported


def _starts(data: bytes, imported: dict[str, tuple[str, str]]) -> list[list[Any]]:
    """``name.start()`` on an imported object: ``[module, name, line, column, end_column]``
    (1-based, end exclusive), the line a person changes to stop a scheduler started there."""
    out: list[list[Any]] = []
    for match in _START.finditer(data):
        name = match.group(2).decode()
        origin = imported.get(name)
        if "." in name:  # ``pkg.settings.scheduler.start()`` after ``import pkg.settings``
            head, _, rest = name.partition(".")
            imp = imported.get(head)
            if imp is None or imp[1] == "*":
                continue
            module, _, last = ".".join(p for p in (imp[0], imp[1], rest) if p).rpartition(".")
            origin = (module, last) if module else None
        if origin is not None and origin[1] and origin[1] != "*":
            line = data.count(b"\n", 0, match.start(2)) + 1
            column = match.start(2) - (data.rfind(b"\n", 0, match.start(2)) + 1) + 1
            end_column = column + len(match.group(0)) - len(match.group(1))
            out.append([origin[0], origin[1], line, column, end_column])
    return out


def _class_containers(data: bytes) -> list[str]:
    """``Class.attr`` for container literals in module-level class bodies (``SUCCESS = {...}``)."""
    if b"class" not in data:
        return []
    found: list[str] = []
    owner: bytes | None = None
    for match in _CLASS_ATTR.finditer(data):
        if match.group(1) is not None:
            owner = match.group(1)
        elif owner is not None:
            found.append(f"{owner.decode()}.{match.group(2).decode()}")
    return found


def _instances(data: bytes, imported: dict[str, tuple[str, str]]) -> list[list[str]]:
    local = {m.decode() for m in _CLASS.findall(data)}
    found: set[tuple[str, str]] = set()
    stores: dict[bytes, set[bytes]] = {}
    for match in _INSTANCE.finditer(data):
        target = match.group(2)
        if b"." in target and _APP_OBJECT.match(target) is None:
            continue  # an attribute of some other (possibly per-request) object
        name = match.group(3).decode()
        if match.group(1) and b"." not in target and not _kept(data, target, imported, stores):
            continue  # a local variable (unless it is stored in a module-level container)
        if name in imported and imported[name][1]:
            found.add(imported[name])
        elif name in local:
            found.add(("", name))
    for match in _STORED_INSTANCE.finditer(data):
        # ``games[key] = Game(key)``, ``rooms.append(Room(code))``: made straight into a container
        holder, name = match.group(1) or match.group(2), match.group(3).decode()
        if not _module_level(data, holder, imported):
            continue
        if name in imported and imported[name][1]:
            found.add(imported[name])
        elif name in local:
            found.add(("", name))
    return sorted([m, c] for m, c in found)


#: ``games[key] = Game(key)``, ``rooms.append(Room(code))``: an instance stored into a container.
_STORED_INSTANCE = re.compile(
    rb"^[ \t]+(?:(\w+)\[(?:[^\[\]\n]|\[[^\]\n]*\])+\][ \t]*=[ \t]*"
    rb"|(\w+)\.(?:append|add|setdefault\([^,\n]+,)[ \t]*\(?)"
    rb"([A-Z]\w*)[ \t]*\(",
    re.M,
)


#: ``self.games[key] = Game(key)``, ``self.rooms.append(Room(code))``, ``Server.parties.append(Party())``:
#: an instance made straight into a container an object (or a class) keeps.
_KEPT_BY_OBJECT = re.compile(
    rb"^[ \t]+(?:(self|[A-Z]\w*)\.(\w+)(?:\[(?:[^\[\]\n]|\[[^\]\n]*\])+\][ \t]*=[ \t]*"
    rb"|\.(?:append|add|insert\([^,\n]+,|setdefault\([^,\n]+,)[ \t]*\(?))"
    rb"([A-Z]\w*)[ \t]*\(",
    re.M,
)
#: ``game = Game(name)`` in a function (the name is looked up in what ``_NAME_KEPT`` finds).
_LOCAL_INSTANCE = re.compile(rb"^[ \t]+(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*([A-Z]\w*)[ \t]*\(", re.M)
#: ``self.games[key] = game``, ``self.players.append(player)``: a local name kept by an object.
_NAME_KEPT = re.compile(
    rb"^[ \t]+(self|[A-Z]\w*)\.(\w+)"
    rb"(?:\[[^\]\n]+\][ \t]*=[ \t]*(\w+)|\.(?:append|add)\([ \t]*(\w+)[ \t]*\))[ \t]*$",
    re.M,
)
#: A statement at the start of a line: a module-level class header, or anything else there.
_TOP = re.compile(rb"^(?:class[ \t]+(\w+)|[^\s#@])", re.M)


def _stored_by_objects(data: bytes, imported: dict[str, tuple[str, str]]) -> list[list[str]]:
    """``[module, class, keeper]``: an instance of ``class`` kept in a container of an object of
    the module-level class ``keeper`` (``self.games[k] = Game()`` in one of its methods, or
    ``game = Game(); self.games[k] = game``), or of the class ``keeper`` itself
    (``Server.parties.append(Party())``). The instance lasts as long as its keeper: the
    cross-file phase follows the chain from the objects the project keeps."""
    local = {m.decode() for m in _CLASS.findall(data)}
    tops: list[tuple[int, bytes | None]] = []
    class_level = set(_class_containers(data))

    def keeper_of(offset: int, who: bytes, attr: bytes | None = None) -> str | None:
        if who != b"self":  # a class attribute: it lasts as long as the process
            return "*" if who.decode() in local else None
        if not tops:
            tops.extend((m.start(), m.group(1)) for m in _TOP.finditer(data))
        owner = None
        for start, name in tops:
            if start > offset:
                break
            owner = name
        if owner is None:
            return None
        if attr is not None and f"{owner.decode()}.{attr.decode()}" in class_level:
            return "*"  # ``self.players.append(...)`` where ``players = []`` is the class's own
        return owner.decode()

    def origin(name: str) -> tuple[str, str] | None:
        if name in imported and imported[name][1] and imported[name][1] != "*":
            return imported[name]
        return ("", name) if name in local else None

    found: set[tuple[str, str, str]] = set()
    for match in _STORED_INSTANCE.finditer(data):  # ``games[key] = Game(key)``: kept for good
        made, holder = origin(match.group(3).decode()), match.group(1) or match.group(2)
        if (
            made is not None
            and _module_level(data, holder, imported)
            and not _on_miss(data, match.start(), holder)
        ):
            found.add((*made, "*"))
    for match in _KEPT_BY_OBJECT.finditer(data):
        keeper = keeper_of(match.start(), match.group(1), match.group(2))
        made = origin(match.group(3).decode())
        if keeper is not None and made is not None and not _on_miss(data, match.start(), match.group(2)):
            found.add((*made, keeper))
    kept: dict[tuple[str, bytes], str] = {}  # (keeper, local name) -> keeper
    for match in _NAME_KEPT.finditer(data):
        keeper = keeper_of(match.start(), match.group(1), match.group(2))
        if keeper is not None and not _on_miss(data, match.start(), match.group(2)):
            kept[(keeper_of(match.start(), b"self") or keeper, match.group(3) or match.group(4))] = keeper
    module_kept = {
        m.group(2)
        for m in _STORE.finditer(data)
        if _module_level(data, m.group(1), imported) and not _on_miss(data, m.start(), m.group(1))
    }
    if kept or module_kept:
        for match in _LOCAL_INSTANCE.finditer(data):
            made = origin(match.group(2).decode())
            if made is not None and match.group(1) in module_kept:  # ``room = Room(); ROOMS[c] = room``
                found.add((*made, "*"))
            keeper = keeper_of(match.start(), b"self") if kept else None
            if made is not None and keeper is not None and (keeper, match.group(1)) in kept:
                found.add((*made, kept[(keeper, match.group(1))]))
    return sorted([m, c, k] for m, c, k in found)


#: ``self.turn += 1``, ``self.players[uid] = p``, ``self.players.append(p)``: a method changes its
#: own object.
_SELF_WRITE = re.compile(
    rb"^([ \t]+)self\.(\w+)(?:\[[^\]\n]*\])*(?:[ \t]*[-+*|/]?=(?!=)"
    rb"|\.(?:append|extend|insert|remove|pop|popitem|clear|update|setdefault|add|discard|appendleft)\()",
    re.M,
)
#: A line that starts a module-level statement, or a method (``def`` at any indentation).
_HEADER = re.compile(rb"^(?:class[ \t]+(\w+)|([ \t]+)(?:async[ \t]+)?def[ \t]+(\w+)|[^\s#@)\]}])", re.M)


def _object_writes(data: bytes) -> list[list[Any]]:
    """``[class, method, attr, line, column, end_column]`` for each statement in a method of a
    module-level class (not ``__init__``) that changes the object itself: an attribute rebound,
    or a container it holds changed. Such a change is process-wide state where a lasting
    container keeps the object (:func:`kept_writes` decides, across files). Classes with a
    module-level instance in this file are left out (the rules see those directly)."""
    if b"class" not in data:
        return []
    headers = [(m.start(), m.group(1), m.group(2), m.group(3)) for m in _HEADER.finditer(data)]
    out: list[list[Any]] = []
    position = 0
    cls: bytes | None = None
    body: int | None = None  # indentation of the class body's methods
    method: bytes | None = None
    for match in _SELF_WRITE.finditer(data):
        while position < len(headers) and headers[position][0] < match.start():
            _, name, indent, defined = headers[position]
            if indent is None:  # a module-level statement: a class, or anything else
                cls, body, method = name, None, None
            elif cls is not None and (body is None or len(indent.expandtabs(4)) <= body):
                body, method = len(indent.expandtabs(4)), defined
            position += 1
        if cls is None or method is None or method == b"__init__":
            continue
        line = data.count(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.start())
        text = data[match.start() : end if end >= 0 else len(data)]
        column = len(match.group(1)) + 1
        out.append(
            [cls.decode(), method.decode(), match.group(2).decode(), line, column, len(text.rstrip()) + 1]
        )
    if not out:
        return out
    instances = {m.decode() for m in re.findall(rb"(?m)^\w+[ \t]*(?::[^=\n]+)?=[ \t]*([A-Z]\w*)\(", data)}
    return [w for w in out if w[0] not in instances]


def kept_writes(facts: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[Any], str]]:
    """``(path, write, caller)`` for each ``writes`` entry of a class whose objects a lasting
    container keeps (``games[k] = Game()``; ``self.games[k] = Game()`` in a manager the project
    keeps; ``Server.players.append(Player())``), in a method some request-handling module calls
    (``caller``, by the method's name as the rest of the call graph)."""
    if not any(own.get("writes") for own in facts.values()):
        return []
    index, children = _indexes(facts)
    _, callers, kept = _instances_and_callers(facts, index, children)
    out: list[tuple[str, list[Any], str]] = []
    for path, own in sorted(facts.items()):
        for write in own.get("writes", ()):
            caller = callers.get(write[1])
            if (path, write[0]) in kept and caller is not None:
                out.append((path, write, caller))
    return out


def _on_miss(data: bytes, offset: int, holder: bytes) -> bool:
    """The store at ``offset`` fills ``holder`` on a miss (``if lang not in _translations:`` or
    ``holder.get(key)`` just above it): an instance cache of objects built once per key."""
    start = offset
    for _ in range(3):
        start = data.rfind(b"\n", 0, start - 1) if start > 0 else -1
        if start < 0:
            break
    above = data[max(start, 0) : offset]
    name = re.escape(holder)
    return (
        re.search(rb"\bnot[ \t]+in[ \t]+(?:\w+\.)?" + name + rb"\b|\b" + name + rb"\.get\(", above)
        is not None
    )


def _module_level(data: bytes, holder: bytes, imported: dict[str, tuple[str, str]]) -> bool:
    """``holder`` is bound at module level in this file or imported from another module."""
    return holder.decode() in imported or (
        re.search(rb"(?m)^" + re.escape(holder) + rb"\b[ \t]*(:[^=\n]+)?=", data) is not None
    )


#: ``ROOMS[code] = room``: a name stored under a key of a container.
_STORE = re.compile(rb"\b(\w+)\[[^\]\n]+\][ \t]*=[ \t]*(\w+)[ \t]*$", re.M)


def _kept(
    data: bytes, variable: bytes, imported: dict[str, tuple[str, str]], stores: dict[bytes, set[bytes]]
) -> bool:
    """``room = Room(...)`` then ``ROOMS[code] = room``: the object is kept by a container that is
    bound at module level in this file or imported from another module, so it outlives the request.
    ``stores`` (variable -> containers it is stored in) is filled on first use."""
    if not stores:
        for holder, value in _STORE.findall(data):
            stores.setdefault(value, set()).add(holder)
        stores.setdefault(b"", set())
    for holder in stores.get(variable, ()):
        if holder.decode() in imported or re.search(
            rb"(?m)^" + re.escape(holder) + rb"\b[ \t]*(:[^=\n]+)?=", data
        ):
            return True
    return False


def _calls(
    lines: list[bytes], imported: dict[str, tuple[str, str]], local: set[str] | None = None
) -> list[list[str]]:
    """``[module, symbol]`` of the imported names called in ``lines``; with ``local`` (the
    file's own module-level functions) also ``["", name]`` for a call of one of them."""
    stars = [module for module, symbol in imported.values() if symbol == "*"]
    called: set[str] = set()
    for line in lines:
        called.update(c.decode() for c in _CALL.findall(line))
    calls: set[tuple[str, str]] = set()
    for name in called:
        head, _, attr = name.partition(".")
        if head in _NOT_CALLS:
            continue
        if attr.count(".") and not (head in imported and not imported[head][1]):
            continue  # ``obj.attr.method(``: only a dotted module path is followed
        if head in imported:
            module, symbol = imported[head]
            if symbol:
                calls.add((module, f"{symbol}.{attr}" if attr else symbol))
            elif attr:
                calls.add((module, attr))
        elif not attr and local and head in local:
            calls.add(("", head))
        elif not attr:
            calls.update((module, head) for module in stars)
    return sorted([m, s] for m, s in calls)


def _body_lines(data: bytes) -> list[tuple[str | None, bytes]]:
    """Lines inside functions that may run per request: not module level, not in a function named
    like a startup hook (``create_app``, ``lifespan``...), not under ``if __name__ == "__main__"``;
    each with the module-level function (``name``) or method of a module-level class
    (``Class.name``) it belongs to (``None`` in other blocks)."""
    out: list[tuple[str | None, bytes]] = []
    skip_below: int | None = None  # indentation of the skipped block's header
    owner: str | None = None
    cls: str | None = None  # the module-level class whose body this is
    body: int | None = None  # the indentation of that class body
    routed = False  # a route decorator since the last statement
    for match in _LINE.finditer(data):
        indent = len(match.group(1).expandtabs(4))
        line = match.group(0)
        if not line.strip():
            continue
        if skip_below is not None and indent > skip_below:
            continue
        skip_below = None
        if not indent:
            owner, body = None, None
            header = _CLASS.match(line)
            cls = header.group(1).decode() if header is not None else None
        elif cls is not None and body is None:
            body = indent
        decorated = routed
        if routed or b"@" in line:
            at = line.lstrip()[:1] == b"@"
            routed = at and (routed or _ROUTE_DECORATOR.match(line) is not None)
        if match.group(2) is not None:
            name = match.group(3)
            if name is None or (_startup(name.decode()) and not decorated):
                skip_below = indent
                continue
            if not indent:
                owner = name.decode()
                continue
            if indent == body:
                owner = f"{cls}.{name.decode()}"
                continue
        if indent == body:
            owner = None  # a class attribute or a decorator, not a method's body
        if indent:
            out.append((owner, line))
    return out


def _startup(name: str) -> bool:
    return (
        name in STARTUP_NAMES or name.startswith(STARTUP_PREFIXES) or "lifespan" in name or "startup" in name
    )


def module_names(path: str) -> set[str]:
    """Dotted names under which the file ``path`` may be imported (every package suffix)."""
    stem = path[:-3] if path.endswith(".py") else path
    parts = [p for p in stem.split("/") if p not in {"", "."}]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))}


def absolute(importer: str, module: str) -> str:
    """``module`` as imported by the file ``importer``, relative imports made absolute."""
    if not module.startswith("."):
        return module
    level = len(module) - len(module.lstrip("."))
    base = posixpath.dirname(importer)
    for _ in range(level - 1):
        base = posixpath.dirname(base)
    rest = module.lstrip(".")
    joined = "/".join(p for p in (base, rest.replace(".", "/")) if p)
    return joined.replace("/", ".")


def reached(
    facts: Mapping[str, Mapping[str, Any]], wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """For each ``(path, function)`` in ``wanted``, the first request-handling module calling it.

    ``function`` is ``name`` for a module-level function, ``instance.method`` for a method of a
    module-level object, ``Class().method`` for a method of a class instantiated into a
    module-level name or an attribute anywhere in the project (then the caller is the first
    request-handling module that calls ``.method(``), ``Class(*).method`` for a method changing a
    class attribute all instances share (any such call), or ``module:name`` for a name imported
    from ``module`` that the file mutates at request time (then the "caller" is the project
    module that defines ``name`` as a module-level container).
    """
    targets: dict[tuple[str, str], tuple[str, str]] = {}
    out: dict[tuple[str, str], str] = {}
    index, children = _indexes(facts)
    made: _Made | None = None
    for path, function in wanted:
        if ":" in function or "()." in function or "(*)." in function:
            if ":" in function:
                place = _imported_container(facts, index, children, path, function)
            else:
                made = made or _instances_and_callers(facts, index, children)
                place = _instantiated(made, path, function)
            if place is not None:
                out[(path, function)] = place
            continue
        for name in module_names(path):
            targets[(name, function)] = (path, function)
            if "." not in function:  # ``from pkg import module`` then ``module.function()``
                targets[(f"{name.rpartition('.')[0]}", f"{name.rpartition('.')[2]}.{function}")] = (
                    path,
                    function,
                )
    if not targets:
        return out
    for (module, symbol), (importer, handler) in _reachable(facts, index).items():
        hit = targets.get((module, symbol))
        if hit is not None and hit[0] != importer:
            out.setdefault(hit, handler)
    return out


def _indexes(facts: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Module name -> files, and package -> files of its own modules (for re-exports)."""
    index: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for known in sorted(facts):
        for name in module_names(known):
            index.setdefault(name, []).append(known)
            children.setdefault(name.rpartition(".")[0], []).append(known)
    return index, children


def _reachable(
    facts: Mapping[str, Mapping[str, Any]], index: Mapping[str, list[str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """Every ``(module, symbol)`` request handlers call, directly or through the project's own
    functions that call further imported functions (breadth first, so the shortest chain wins),
    with the calling file and the handler module at the start of the chain."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    frontier: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for importer, own in sorted(facts.items()):
        for module, symbol in own.get("calls", ()):
            frontier.append(((absolute(importer, module), symbol), (importer, importer)))
    while frontier:
        following: list[tuple[tuple[str, str], tuple[str, str]]] = []
        for key, origin in frontier:
            if key in seen:
                continue
            seen[key] = origin
            module, symbol = key
            head, _, tail = symbol.partition(".")
            places = [(module, symbol)] + ([(f"{module}.{head}", tail)] if tail else [])
            for place, function in places:
                for path in index.get(place, ()):
                    for sub_module, sub_symbol in facts[path].get("fcalls", {}).get(function, ()):
                        # ``""``: a function of the same file (``handle() -> _handle_admin()``)
                        target = place if sub_module == "" else absolute(path, sub_module)
                        following.append(((target, sub_symbol), (path, origin[1])))
        frontier = following
    return seen


def _imported_container(
    facts: Mapping[str, Mapping[str, Any]],
    index: Mapping[str, list[str]],
    children: Mapping[str, list[str]],
    path: str,
    function: str,
) -> str | None:
    module, _, name = function.rpartition(":")
    place = absolute(path, module)
    # The module itself, or (a name a package re-exports) one of the package's own modules.
    candidates = index.get(place, []) or children.get(place, [])
    for defining in candidates:
        own = facts[defining]
        if defining != path and (
            name in own.get("containers", ()) or name in own.get("class_containers", ())
        ):
            return defining
    return None


def _instantiated(made: _Made, path: str, function: str) -> str | None:
    if "(*)." in function:  # state all instances share: any instance's call changes it
        return made[1].get(function.partition("(*).")[2])
    cls, _, method = function.partition("().")
    if (path, cls) not in made[0]:
        return None
    return made[1].get(method)


#: What :func:`_instances_and_callers` finds: the classes instantiated into a lasting place, the
#: first request-handling module calling each method name, and the classes whose instances are
#: kept in a lasting container (a subset of the first).
_Made = tuple[set[tuple[str, str]], dict[str, str], set[tuple[str, str]]]


def _instances_and_callers(
    facts: Mapping[str, Mapping[str, Any]],
    index: Mapping[str, list[str]],
    children: Mapping[str, list[str]] | None = None,
) -> _Made:
    """``(defining file, class)`` of every class some module instantiates into a lasting place, and
    the first request-handling module calling each method name. A class imported from a package
    (``from models import Game``) may be defined in any of the package's own modules."""
    made: set[tuple[str, str]] = set()
    callers: dict[str, str] = {}
    for importer, own in sorted(facts.items()):
        for module, name in own.get("instances", ()):
            if module == "":
                made.add((importer, name))
            else:
                place = absolute(importer, module)
                found = index.get(place) or (children or {}).get(place, [])
                made.update((defining, name) for defining in found)
        for method in own.get("methods", ()):
            callers.setdefault(method, importer)
    kept = _follow_keepers(facts, index, children or {}, made)
    # Helpers that handlers reach (``views -> services.remove_room() -> rooms.remove(...)``).
    for (module, symbol), (_, handler) in _reachable(facts, index).items():
        for path in index.get(module, ()):
            for method in facts[path].get("fmethods", {}).get(symbol, ()):
                callers.setdefault(method, handler)
    # Methods of kept objects that those methods call (``manager.join() -> game.add_player()``).
    grown = True
    while grown:
        grown = False
        for path, own in sorted(facts.items()):
            for function, methods in own.get("fmethods", {}).items():
                cls, _, name = function.rpartition(".")
                if not cls or name not in callers or (path, cls) not in made:
                    continue
                for method in methods:
                    if method not in callers:
                        callers[method] = callers[name]
                        grown = True
    return made, callers, kept


def _follow_keepers(
    facts: Mapping[str, Mapping[str, Any]],
    index: Mapping[str, list[str]],
    children: Mapping[str, list[str]],
    made: set[tuple[str, str]],
) -> set[tuple[str, str]]:
    """Add to ``made`` the classes whose instances a kept object keeps (``stored``), until no more
    are found: a manager kept at module level keeps games, which keep players. Returns those
    classes."""
    kept: set[tuple[str, str]] = set()
    grown = True
    while grown:
        grown = False
        for importer, own in sorted(facts.items()):
            for module, name, keeper in own.get("stored", ()):
                if keeper != "*" and (importer, keeper) not in made:
                    continue
                if module == "":
                    found = [importer]
                else:
                    place = absolute(importer, module)
                    found = index.get(place) or children.get(place, [])
                for defining in found:
                    kept.add((defining, name))
                    if (defining, name) not in made:
                        made.add((defining, name))
                        grown = True
    return kept
