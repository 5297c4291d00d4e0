"""Framework adapters: ``sessionkit.adapters.flask``, ``.django`` and ``.starlette``.

Each adapter is imported on its own so that a Flask app never imports Django and vice versa.
"""
