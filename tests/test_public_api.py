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
        "PoolExhausted",
        "RedisStore",
        "SaveResult",
        "SerializationError",
        "Serializer",
        "Session",
        "SessionBackendUnavailable",
        "SessionError",
        "SessionNotReplicated",
        "SessionStorageFull",
        "SessionTooLarge",
        "__version__",
        "check_server_policy",
    ]
    for name in sessionkit.__all__:
        assert hasattr(sessionkit, name)


def test_error_tree() -> None:
    assert issubclass(sessionkit.SessionBackendUnavailable, sessionkit.SessionError)
    assert issubclass(sessionkit.SessionBackendUnavailable, ConnectionError)
    assert issubclass(sessionkit.SessionTooLarge, ValueError)
    assert issubclass(sessionkit.ConfigurationError, ValueError)
    for name in ("PoolExhausted", "SessionStorageFull", "SessionNotReplicated"):  # all 503s
        assert issubclass(getattr(sessionkit, name), sessionkit.SessionBackendUnavailable)


def test_lint_and_the_package_root_import_no_redis() -> None:
    import subprocess
    import sys

    for statement in ("import sessionkit.lint", "import sessionkit", "import sessionkit.ingress"):
        code = f"import sys; {statement}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]", statement
    code = "import sys, sessionkit; sessionkit.RedisStore; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # the names still work, imported on first use


def test_core_does_not_import_frameworks() -> None:
    import subprocess
    import sys

    code = "import sys, sessionkit; print(sorted(m for m in ('flask','django','starlette','libcst') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
