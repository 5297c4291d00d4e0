"""The public surface is deliberate: this test pins it."""

from __future__ import annotations

import sessionkit


def test_exported_names() -> None:
    assert sorted(sessionkit.__all__) == [
        "AsyncRedisStore",
        "ConfigurationError",
        "Hook",
        "JSONSerializer",
        "OperationEvent",
        "RedisStore",
        "SaveResult",
        "SerializationError",
        "Serializer",
        "Session",
        "SessionBackendUnavailable",
        "SessionError",
        "SessionTooLarge",
        "__version__",
    ]
    for name in sessionkit.__all__:
        assert hasattr(sessionkit, name)


def test_error_tree() -> None:
    assert issubclass(sessionkit.SessionBackendUnavailable, sessionkit.SessionError)
    assert issubclass(sessionkit.SessionBackendUnavailable, ConnectionError)
    assert issubclass(sessionkit.SessionTooLarge, ValueError)
    assert issubclass(sessionkit.ConfigurationError, ValueError)


def test_core_does_not_import_frameworks() -> None:
    import subprocess
    import sys

    code = "import sys, sessionkit; print(sorted(m for m in ('flask','django','starlette','libcst') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
