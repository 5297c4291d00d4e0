"""The cookie codec: 256-bit IDs, HMAC-SHA256 signatures, rotation, and rejection of junk."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import ConfigurationError
from sessionkit._cookie import CookieCodec, new_session_id, redis_key_suffix

codec = CookieCodec(["current-secret-0123456789", "old-secret-0123456789"])


def test_ids_are_256_bit_and_unique() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 43 for i in ids)  # 32 bytes base64url without padding


def test_round_trip_and_rotation() -> None:
    sid = new_session_id()
    assert codec.unsign(codec.sign(sid)) == sid
    old = CookieCodec("old-secret-0123456789")
    assert codec.unsign(old.sign(sid)) == sid, "a cookie signed with an old secret still verifies"
    assert old.unsign(codec.sign(sid)) is None, "the current secret signs, not the old one"


def test_redis_key_is_not_the_session_id() -> None:
    sid = new_session_id()
    assert sid not in redis_key_suffix(sid)
    assert redis_key_suffix(sid) == redis_key_suffix(sid)


@pytest.mark.parametrize(
    "cookie",
    ["", None, "x", "a" * 10_000, "ñ" * 40, "abc.def", "..", "\x00", "é.é"],
)
def test_junk_is_rejected(cookie: str | None) -> None:
    assert codec.unsign(cookie) is None


def test_a_valid_signature_over_a_non_id_is_rejected() -> None:
    assert codec.unsign(codec.sign("../../etc/passwd")) is None


@pytest.mark.parametrize("secrets", ["", [], [""], [b""]])
def test_empty_secret_is_a_configuration_error(secrets: object) -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        CookieCodec(secrets)  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_arbitrary_text_never_verifies(text: str) -> None:
    assert codec.unsign(text) is None


session_ids = st.binary(min_size=32, max_size=32).map(lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode())


@given(session_ids, st.integers(min_value=0, max_value=86), st.characters(min_codepoint=33, max_codepoint=126))
def test_any_single_character_change_is_rejected(session_id: str, position: int, char: str) -> None:
    # Every position, the signature's last character included (its 2 unused bits), and every
    # spelling a lenient base64 decoder reads alike ("/" for "_", "+" for "-").
    signed = codec.sign(session_id)
    position %= len(signed)
    if signed[position] == char:
        return
    tampered = signed[:position] + char + signed[position + 1 :]
    assert codec.unsign(tampered) is None


@given(session_ids, st.sampled_from(["!", "=", " ", "\n", "A"]))
def test_characters_added_to_a_valid_cookie_are_rejected(session_id: str, extra: str) -> None:
    signed = codec.sign(session_id)
    for tampered in (signed + extra, extra + signed, signed.replace(".", "." + extra)):
        assert codec.unsign(tampered) is None, tampered


# -- the codec is itsdangerous's format, byte for byte -------------------------------------------
def _reference(secrets: list[bytes]):
    import hashlib

    from itsdangerous import Signer

    return Signer(list(reversed(secrets)), salt="sessionkit.session-id", key_derivation="hmac",
                  digest_method=hashlib.sha256)


def _reference_unsign(signer, cookie: str) -> str | None:
    """What the codec did when it called itsdangerous, kept here as the oracle."""
    import re

    from itsdangerous import BadSignature

    if not cookie or len(cookie) > 128 or not cookie.isascii():
        return None
    try:
        value = signer.unsign(cookie).decode()
    except BadSignature:
        return None
    return value if re.fullmatch(r"[A-Za-z0-9_-]{43}", value) else None


secret_lists = st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=3)
ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=130)


@given(secret_lists, st.one_of(st.builds(lambda _: new_session_id(), st.none()), ascii_text))
def test_signing_is_identical_to_itsdangerous(secrets: list[bytes], value: str) -> None:
    assert CookieCodec(secrets).sign(value) == _reference(secrets).sign(value).decode()


@given(secret_lists, st.integers(0, 2), st.integers(0, 120), ascii_text)
def test_verification_is_identical_to_itsdangerous(secrets: list[bytes], which: int, cut: int,
                                                   junk: str) -> None:
    ours, reference = CookieCodec(secrets), _reference(secrets)
    signer = CookieCodec(secrets[which % len(secrets)])  # current or rotated-out secrets
    good = signer.sign(new_session_id())
    for cookie in (good, good[:cut], good[:cut] + junk, junk, good + junk, junk + good,
                   good.replace(".", junk[:1] or "."), good[:-1] + (junk[:1] or "A")):
        assert ours.unsign(cookie) == (_reference_unsign(reference, cookie) if _canonical(cookie) else None), cookie


def _canonical(cookie: str) -> bool:
    """The one spelling the codec signs: itsdangerous also accepts others (characters outside the
    alphabet skipped, the signature's unused last bits set); the codec refuses them."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}", cookie):
        return False
    sig = cookie.split(".")[1]
    return base64.urlsafe_b64encode(base64.urlsafe_b64decode(sig + "=")).rstrip(b"=").decode() == sig


def test_other_spellings_of_a_valid_signature_are_rejected() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    ids = (base64.urlsafe_b64encode(bytes([i]) * 32).rstrip(b"=").decode() for i in range(256))
    signed = next(c for c in map(codec.sign, ids) if "_" in c.split(".")[1] and "-" in c.split(".")[1])
    session_id, sig = signed.split(".")
    assert codec.unsign(signed) == session_id
    last = alphabet[alphabet.index(sig[-1]) + 1]  # same 256 bits, an unused low bit set
    for variant in (sig.replace("_", "/", 1), sig.replace("-", "+", 1), sig[:-1] + last, sig + "!"):
        assert base64.urlsafe_b64decode(variant.replace("!", "") + "=") == base64.urlsafe_b64decode(sig + "=")
        assert codec.unsign(f"{session_id}.{variant}") is None, variant


def test_signing_and_verifying_schedule_no_hmac_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[object] = []
    real = hmac.new
    monkeypatch.setattr(hmac, "new", lambda *a, **k: calls.append(a) or real(*a, **k))
    fresh = CookieCodec(["current-secret-0123456789", "old-secret-0123456789"])
    derived = len(calls)  # once per secret, at construction
    old = CookieCodec("old-secret-0123456789").sign(new_session_id())
    calls.clear()
    for _ in range(5):
        cookie = fresh.sign(new_session_id())
        assert fresh.unsign(cookie) and fresh.unsign(old)
    assert (derived, calls) == (2, [])


def test_a_cookie_verified_once_is_answered_without_hmac_and_forgeries_never_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sessionkit import _cookie

    fresh = CookieCodec("current-secret-0123456789")
    session_id = new_session_id()
    cookie = fresh.sign(session_id)
    forged = CookieCodec("another-secret-0123456789").sign(session_id)
    macs: list[bytes] = []
    real = _cookie._mac
    monkeypatch.setattr(_cookie, "_mac", lambda pads, message: macs.append(message) or real(pads, message))
    assert [fresh.unsign(cookie) for _ in range(3)] == [session_id] * 3
    assert [fresh.unsign(forged) for _ in range(3)] == [None] * 3
    assert len(macs) == 1 + 3  # the valid cookie once; the forged one every time


def test_signing_an_id_again_gives_the_same_cookie_without_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    from sessionkit import _cookie

    rotated = CookieCodec(["current-secret-0123456789", "old-secret-0123456789"])
    session_id, other = new_session_id(), new_session_id()
    old = CookieCodec("old-secret-0123456789").sign(other)
    assert rotated.unsign(old) == other  # verified with the old secret: not what the current one signs
    macs: list[bytes] = []
    real = _cookie._mac
    monkeypatch.setattr(_cookie, "_mac", lambda pads, message: macs.append(message) or real(pads, message))
    first = rotated.sign_cached(session_id)
    assert [rotated.sign_cached(session_id) for _ in range(3)] == [first] * 3 == [rotated.sign(session_id)] * 3
    assert rotated.sign_cached(other) == rotated.sign(other) != old
    assert rotated.unsign(first) == session_id
    assert len(macs) == 4  # sign_cached once per ID (2), sign each time it is called (2), unsign never
