"""Rule reference text, generated from the rule classes (``--explain``, docs/rules.md)."""

from __future__ import annotations

from sessionkit.lint._diagnostics import ALL_DIAGNOSTICS
from sessionkit.lint._rule import Rule
from sessionkit.lint.rules import ALL_RULES, RULES_BY_CODE

ANCHORING = """
## Where a finding points, and what is not reported

A finding points at the line a person would change:

- **configuration**: the value that is set — the string `"sqlite:///app.db"`, the `CACHE_TYPE` value,
  the `MEDIA_ROOT`/`UPLOAD_FOLDER` assignment, the `"class": "...FileHandler"` entry of a logging dict —
  wherever it is set: module or class constants, `app.config[...]`, `from_mapping(...)`/`update(...)`,
  dict literals and `dict(...)`, the default of `os.environ.get(...)`, either side of `or` and of
  `... if DEBUG else ...`, and Python config files loaded with `from_pyfile` (`*.cfg`, Jinja-templated
  `*.cfg.template` included). A value read back from configuration (`sqlite3.connect(app.config["DATABASE"])`)
  is not reported again where it is used.
- **schedulers**: the call that starts them (`scheduler.start()`); the constructor when the start is in
  another module.
- **state**: the mutation (`CARTS[user] = ...`, `.append(...)`) or, for `global`, the first assignment to
  the global after the `global` statement.
- **threads and loops**: the call that starts them (`Thread(...)`, `Timer(...)`, `asyncio.create_task(...)`).

Request time: a function runs per request when this module decorates or registers it as a handler (or a
class-based view method, a raw ASGI/WSGI callable), when such a function calls it in the same module, or
when a module of the project that handles requests imports it and calls it inside a function body (the
cross-file call graph, read from imports; those findings are one severity lower and name the caller).
Code under `if __name__ == "__main__":` is a script, unless that block also starts the web server
(`app.run()`, `uvicorn.run(...)`).

Skipped: test configuration — settings modules for tests (`settings/test.py`, `test_settings.py`,
`config_testing.py`, `conftest.py`) and config classes named like `TestingConfig` — never runs in production
and is not reported. Development settings (`settings/dev.py`, `local.py`, a `DevelopmentConfig` class, an
`if DEBUG:` branch, an environment-variable fallback) are reported one severity lower, marked *guarded*.
Shared storage configured anywhere in the project (`STORAGES`, `DEFAULT_FILE_STORAGE`, also assigned
conditionally, or a module using boto3/MinIO/GCS/Azure Blob) silences `MEDIA_ROOT`/`UPLOAD_FOLDER` findings.
"""


def render_rule(rule: type[Rule]) -> str:
    parts = [
        f"## {rule.code} `{rule.name}`",
        "",
        f"- category: `{rule.category}`",
        f"- severity: `{rule.severity}`",
        f"- remedy: `{rule.remedy}`",
        f"- autofix: {'yes (`--fix`/`--diff`)' if rule.fixable else 'no'}",
        "",
        rule.description(),
        "",
        f"**Why it breaks and what to do:** {rule.message}.",
        "",
        f"**Fix:** {rule.fix_hint}",
        "",
        "### Flagged",
    ]
    for example in rule.invalid:
        parts += ["", "```python", example.rstrip("\n"), "```"]
    parts += ["", "### Not flagged"]
    for example in rule.valid:
        parts += ["", "```python", example.rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def render_all() -> str:
    head = [
        "# sessionkit lint — rule reference",
        "",
        "Generated from the rule classes by `sessionkit lint --explain all`; do not edit by hand.",
        "Codes read `SK<variant><category>`: the last two digits are the category number of issue 5",
        "(01 secret keys … 17 thread-locals), the first digit numbers rules within a category.",
        "",
        "| code | name | category | severity | remedy |",
        "|---|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        head.append(f"| {rule.code} | `{rule.name}` | {rule.category} | {rule.severity} | {rule.remedy} |")
    head += [
        "",
        "Input diagnostics (never a crash; the run goes on):",
        "",
        "| code | name | severity | meaning |",
        "|---|---|---|---|",
    ]
    for d in ALL_DIAGNOSTICS:
        head.append(f"| {d.code} | `{d.name}` | {d.severity} | {d.message} |")
    head += ["", ANCHORING.strip()]
    body = [render_rule(rule) for rule in ALL_RULES]
    return "\n".join(head) + "\n\n" + "\n".join(body)


def explain(code: str) -> str | None:
    if code.lower() == "all":
        return render_all()
    rule = RULES_BY_CODE.get(code.upper())
    if rule is not None:
        return render_rule(rule)
    for d in ALL_DIAGNOSTICS:
        if d.code == code.upper():
            head = f"## {d.code} `{d.name}`\n\n- severity: `{d.severity}`\n\n"
            return f"{head}{d.message}.\n\n**Fix:** {d.fix_hint}\n"
    return None


def name_of(code: str) -> str:
    """The kebab-case name of a rule or diagnostic code (``""`` when unknown)."""
    rule = RULES_BY_CODE.get(code)
    if rule is not None:
        return rule.name
    return next((d.name for d in ALL_DIAGNOSTICS if d.code == code), "")
