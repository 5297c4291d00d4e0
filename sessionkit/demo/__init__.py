"""``sessionkit demo`` and the process helpers behind it (also the test suite's and the benchmarks').

- ``_cli``: the ``demo`` subcommand: in-process sessions behind round-robin and behind cookie
  affinity, and sessionkit, each with a replica killed halfway.
- ``_apps``: the tiny WSGI shops the demo runs; ``_journey``: the scripted users.
- ``_servers``: throw-away Redis/Valkey servers; ``_procs``: app replicas and nginx;
  ``_children``: every child process ends with its parent.
"""
