from __future__ import annotations

import subprocess
import sys

import sessionkit

CLI = [sys.executable, "-m", "sessionkit"]  # the running interpreter's install, not whatever is on PATH


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)


def test_version_and_help() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"sessionkit {sessionkit.__version__}"
    out = run("--help")
    assert out.returncode == 0 and "usage: sessionkit" in out.stdout
    for command in ("demo", "lint", "ingress", "sessions"):
        assert command in out.stdout


def test_no_command_is_a_usage_error() -> None:
    assert run().returncode == 2


def test_unknown_command_is_a_usage_error() -> None:
    out = run("frobnicate")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_mistyped_flag_gets_the_subcommands_usage_and_a_suggestion() -> None:
    for args, usage, error in [
        (("ingress", "--stickyness", "yes"), "usage: sessionkit ingress ",
         "sessionkit ingress: error: unrecognized arguments: --stickyness yes (did you mean --stickiness?)"),
        (("sessions", "stats", "--jsn"), "usage: sessionkit sessions stats ",
         "sessionkit sessions stats: error: unrecognized arguments: --jsn (did you mean --json?)"),
        (("demo", "--no-ngnix"), "usage: sessionkit demo ",
         "sessionkit demo: error: unrecognized arguments: --no-ngnix (did you mean --no-nginx?)"),
        (("demo", "--users", "2", "--sprinkles"), "usage: sessionkit demo ",
         "sessionkit demo: error: unrecognized arguments: --sprinkles"),
    ]:
        out = run(*args)
        assert out.returncode == 2, args
        assert out.stdout == ""
        assert out.stderr.startswith(usage), out.stderr
        assert out.stderr.splitlines()[-1] == error
