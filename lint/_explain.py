"""Rule reference text, generated from the rule classes (``--explain``, docs/rules.md)."""

from __future__ import annotations

from sessionkit.lint._diagnostics import ALL_DIAGNOSTICS
from sessionkit.lint._rule import Rule
from sessionkit.lint.rules import ALL_RULES, RULES_BY_CODE


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
