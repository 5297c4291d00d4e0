"""Property tests: whatever we accept the controller uses; whatever it would drop we refuse."""

from __future__ import annotations

import re
import string

from _ingress_support import VALIDATORS, controller_uses, k8s_valid
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sessionkit.ingress._gateway import gateway_duration, session_persistence_problems
from sessionkit.ingress._manifest import Backend, ingress_manifest
from sessionkit.ingress._nginx import NginxAffinity, nginx_annotations
from sessionkit.ingress._rules import audit_annotations, value_problem
from sessionkit.ingress._validate import GATEWAY_DURATION, AffinityConfigError

P = "nginx.ingress.kubernetes.io"
INTERESTING = [
    "", " ", "cookie", "Cookie", " cookie", "COOKIE", "balanced", "persistent", "Persistent",
    "sticky", "legacy", "route", "INGRESSCOOKIE", "a/b", "a:b", "/", "/app", "/a?b", "lax", "Lax",
    "None", "strict", "true", "True", "1", "t", "yes", "0", "00", "0x", "abc5", "-5", "5",
    "172800", "1 2", "\u0665", "example.com", ".example.com", "a b", "5\n",
]
values = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "/:._~- ?&=", max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(suffix=st.sampled_from(sorted(VALIDATORS)), value=values)
def test_accepted_values_are_used_by_the_controller(suffix: str, value: str) -> None:
    ours_ok = value_problem(suffix, value) is None
    if ours_ok and value != "":
        assert controller_uses(suffix, value), (suffix, value)
    if not controller_uses(suffix, value) and value != "":
        assert not ours_ok, (suffix, value)
    if ours_ok and suffix in ("session-cookie-expires", "session-cookie-max-age"):
        assert value.isascii() and value.isdigit() and int(value) > 0


option_values = st.one_of(st.sampled_from(INTERESTING), st.text(max_size=10))
seconds = st.one_of(st.integers(min_value=-5, max_value=10**9), option_values)
GOOD = {
    "cookie_name": st.from_regex(r"[A-Za-z0-9._~-]{1,20}", fullmatch=True),
    "mode": st.sampled_from(["balanced", "persistent"]),
    "canary_behavior": st.sampled_from(["sticky", "legacy"]),
    "cookie_path": st.from_regex(r"/[A-Za-z0-9._~/:-]{0,15}", fullmatch=True),
    "cookie_domain": st.sampled_from(["", "example.com", ".example.com", "a-b.example.org"]),
    "samesite": st.sampled_from(["Lax", "Strict", "None"]),
    "max_age": st.integers(min_value=1, max_value=10**9),
    "expires": st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
    "secure": st.booleans(),
    "change_on_failure": st.booleans(),
    "conditional_samesite_none": st.booleans(),
    "canary": st.booleans(),
    "app_cookie": st.one_of(st.none(), st.sampled_from(["session", "sessionid", "route"])),
}
BAD = {
    "cookie_name": option_values, "mode": option_values, "canary_behavior": option_values,
    "cookie_path": option_values, "cookie_domain": option_values,
    "samesite": st.sampled_from(["lax", "x", ""]), "max_age": seconds, "expires": seconds,
}


# No deadlines: a wall-clock limit fails on a loaded machine, not on a slow generator.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generator_output_is_valid_or_refused(data: st.DataObject) -> None:
    kwargs = {name: data.draw(strategy, label=name) for name, strategy in GOOD.items()}
    for name in data.draw(st.sets(st.sampled_from(sorted(BAD)), max_size=2), label="broken"):
        kwargs[name] = data.draw(BAD[name], label=f"bad {name}")
    try:
        o = NginxAffinity(**kwargs)
    except AffinityConfigError:
        event("refused")
        return
    event("accepted")
    ann = nginx_annotations(o)
    assert len(ann) == 10 + (o.samesite == "None") + o.canary
    for key, value in ann.items():
        if value:
            assert controller_uses(key.split("/", 1)[1], value), (key, value)
    problems = audit_annotations(ann, P, kwargs["app_cookie"])
    assert [f for f in problems if f.severity == "problem"] == []
    k8s_valid(ingress_manifest(Backend(), ann))


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=99999 * 3600))
def test_gateway_duration_from_seconds(secs: int) -> None:
    text = gateway_duration(secs)
    assert GATEWAY_DURATION.fullmatch(text)
    units = {"h": 3600, "m": 60, "s": 1}
    total = sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)([hms])", text))
    assert total == secs
    assert session_persistence_problems({"absoluteTimeout": text}) == []


@settings(deadline=None)
@given(st.text(alphabet="0123456789hms ", max_size=14))
def test_gateway_duration_strings(text: str) -> None:
    try:
        out = gateway_duration(text)
    except AffinityConfigError:
        zero = not any(int(n) for n in re.findall(r"[0-9]+", text))
        assert not GATEWAY_DURATION.fullmatch(text) or zero
        return
    assert GATEWAY_DURATION.fullmatch(out)
    if not text.isdigit():
        assert out == text
