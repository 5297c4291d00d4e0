"""Every rule's embedded VALID and INVALID examples (the Fixit model), plus rule metadata."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from sessionkit.lint._rule import Rule
from sessionkit.lint._types import Finding
from sessionkit.lint.rules import ALL_RULES

Lint = Callable[[str], list[Finding]]

CASES = [
    pytest.param(rule, kind, i, example, id=f"{rule.code}-{kind}-{i}")
    for rule in ALL_RULES
    for kind, examples in (("valid", rule.valid), ("invalid", rule.invalid))
    for i, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "example"), CASES)
def test_example(rule: type[Rule], kind: str, index: int, example: str, snippet: Lint) -> None:
    findings = snippet(example)
    crashes = [f for f in findings if f.code.startswith("SK0")]
    assert not crashes, crashes
    hits = [f for f in findings if f.code == rule.code]
    if kind == "valid":
        assert hits == [], f"false positive: {hits}"
        return
    assert hits, f"{rule.code} missed:\n{example}"
    lines = example.count("\n") + 1
    for hit in hits:
        assert 1 <= hit.line <= hit.end_line <= lines
        assert hit.category == rule.category and hit.remedy == rule.remedy
        assert rule.message in hit.message


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_metadata(rule: type[Rule]) -> None:
    assert re.fullmatch(r"SK[1-9](0[1-9]|1[0-7])", rule.code)
    assert len(rule.valid) >= 5 and len(rule.invalid) >= 5
    assert rule.severity in {"error", "warning", "info"}
    assert rule.remedy in {"externalize", "refactor", "affinity"}
    assert rule.description() and rule.fix_hint and rule.prefilter
    assert re.fullmatch(r"[a-z0-9-]+", rule.name)


def test_all_seventeen_categories_have_rules() -> None:
    numbers = {int(rule.code[-2:]) for rule in ALL_RULES}
    assert numbers == set(range(1, 18))
    assert len({rule.code for rule in ALL_RULES}) == len(ALL_RULES)


def test_externalize_messages_show_the_sessionkit_config() -> None:
    for rule in ALL_RULES:
        if rule.remedy == "externalize":
            assert "sessionkit.adapters." in rule.message
            assert "SESSIONKIT_REDIS_URL" in rule.message or "redis_url=" in rule.message
        if rule.remedy == "affinity":
            assert "sessionkit ingress" in rule.message


def test_django_message_has_exact_settings(snippet: Lint) -> None:
    findings = snippet('# file: settings.py\nSESSION_ENGINE = "django.contrib.sessions.backends.file"\n')
    assert 'SESSION_ENGINE = "sessionkit.adapters.django"' in findings[0].message
    assert "SESSIONKIT_REDIS_URL" in findings[0].message


def test_env_fallback_reports_the_guard_at_lower_severity(snippet: Lint) -> None:
    findings = snippet('import os\nSECRET_KEY = os.environ.get("DJANGO_SECRET", os.urandom(32))\n')
    (finding,) = [f for f in findings if f.code == "SK201"]
    assert "environment variable DJANGO_SECRET" in finding.message
    assert finding.severity == "warning"


def test_public_surface_is_pinned_and_cheap() -> None:
    import subprocess
    import sys

    import sessionkit.lint

    assert sessionkit.lint.__all__ == ["RULESET_VERSION", "Finding", "Remedy", "Severity"]
    code = "import sys, sessionkit.lint, sessionkit.lint._cli; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_advice_never_falls_back_to_a_localhost_server(rule: type[Rule]) -> None:
    # A silent localhost fallback hides a missing setting in production; the advice (like --fix)
    # makes the setting required: os.environ["..."].
    assert "localhost" not in rule.fix_hint and "localhost" not in rule.message
    assert "127.0.0.1" not in rule.fix_hint and "127.0.0.1" not in rule.message
