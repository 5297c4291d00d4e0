from __future__ import annotations

import subprocess

import sessionkit


def test_version_and_help() -> None:
    out = subprocess.run(["sessionkit", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"sessionkit {sessionkit.__version__}"
    out = subprocess.run(["sessionkit", "--help"], capture_output=True, text=True, check=True)
    assert "usage: sessionkit" in out.stdout


def test_no_command_is_a_usage_error() -> None:
    out = subprocess.run(["sessionkit"], capture_output=True, text=True, check=False)
    assert out.returncode == 2


def test_unknown_command_is_a_usage_error() -> None:
    out = subprocess.run(["sessionkit", "frobnicate"], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
