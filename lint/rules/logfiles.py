"""Category 16: log files written to the pod's own disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import keyword, string_value, under_main_guard, walk

FILE_HANDLERS = frozenset(
    {
        "logging.FileHandler",
        "logging.handlers.RotatingFileHandler",
        "logging.handlers.TimedRotatingFileHandler",
        "logging.handlers.WatchedFileHandler",
        "concurrent_log_handler.ConcurrentRotatingFileHandler",
    }
)
BASIC_CONFIG = frozenset({"logging.basicConfig"})
LOGURU = frozenset({"loguru.logger.add"})
HANDLER_CLASS = re.compile(r"(^|\.)\w*FileHandler$")
#: A file path built in code that names a log file.
BUILT_LOG_PATH = re.compile(r"""\.log\b|\.txt\b|(?i:log)\w*['"]\s*\)""")
SCRIPT_PATHS = re.compile(r"(^|/)(management/commands|scripts?|bin|tools)/")


class LocalLogFile(Rule):
    """The web app logs to a file on the pod's disk (a ``FileHandler``, ``basicConfig(filename=...)``,
    a ``dictConfig`` handler of class ``...FileHandler``, loguru ``logger.add("app.log")``).

    Each replica writes its own file, which disappears with the pod; nobody sees one history of
    the app. Scripts under ``if __name__ == "__main__":`` (unless that block starts the web
    server) and management commands are not reported.
    """

    code = "SK316"
    name = "local-log-file"
    category = "local-files"
    severity = "warning"
    remedy = "refactor"
    prefilter = (r"FileHandler|basicConfig|logger\.add\(",)
    message = (
        "each replica writes its own log file on its local disk, which is lost with the pod and "
        "split over replicas; log to stdout/stderr and let the platform collect the logs"
    )
    fix_hint = "Log to a StreamHandler (stdout); Kubernetes collects container output."
    valid = examples(
        """
            import sys
            from loguru import logger
            sink = sys.stdout
            logger.add(sink, format="{time} {message}")
            handler = InterceptHandler(level="INFO")
            logger.add(handler)
        """,
        """
            import logging
            handler = logging.StreamHandler()
            logging.getLogger().addHandler(handler)
        """,
        """
            import logging
            logging.basicConfig(level=logging.INFO)
        """,
        """
            import logging
            if __name__ == "__main__":
                logging.basicConfig(filename="import.log")
                run_import()
        """,
        """
            LOGGING = {
                "version": 1,
                "handlers": {"console": {"class": "logging.StreamHandler"}},
            }
        """,
        """
            class FileHandler:
                pass
            h = FileHandler("x.log")
        """,
    )
    invalid = examples(
        """
            import logging
            import os
            from logging.handlers import RotatingFileHandler
            def create_app():
                app = Flask(__name__)
                if not app.config["LOG_TO_STDOUT"]:
                    os.makedirs("logs", exist_ok=True)
                    file_handler = RotatingFileHandler("logs/app.log", maxBytes=10240)
                    app.logger.addHandler(file_handler)
                return app
        """,
        """
            import logging
            def get_logger(name):
                logger = logging.getLogger(name)
                logger.addHandler(logging.FileHandler("app.log"))
                return logger
        """,
        """
            import logging
            logging.basicConfig(filename="server.log", level=logging.INFO)
        """,
        """
            LOGGING = {
                "version": 1,
                "handlers": {
                    "file": {
                        "class": "logging.handlers.RotatingFileHandler",
                        "filename": "logs/app.log",
                    }
                },
            }
        """,
        """
            from loguru import logger
            logger.add("data/lnbits.log", rotation="100 MB")
        """,
        """
            from pathlib import Path
            from loguru import logger
            def config_logging():
                log_path = Path.cwd().joinpath("log").joinpath("app_log.log")
                logger.add(log_path, rotation="10 MB", retention="10 days")
        """,
        """
            import os
            def _file_handler(name):
                return {
                    "class": "logging.handlers.RotatingFileHandler",
                    "filename": os.path.join(LOG_DIR, name),
                }
            LOGGING = {"version": 1, "handlers": {"file": _file_handler("django.log")}}
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, FILE_HANDLERS):
            self._maybe(node, f"`{self.ctx.module.code_for_node(node.func)}()` writes a local log file")
        elif self.ctx.calls(node, BASIC_CONFIG) and keyword(node, "filename") is not None:
            self._maybe(node, "`logging.basicConfig(filename=...)` writes a local log file")
        elif self.ctx.calls(node, LOGURU) and node.args:
            target = string_value(node.args[0].value)
            if target is None:
                named = self._built_path(node.args[0].value)
            else:
                named = "." in target and not target.startswith(("sys.", "<"))
            if named:
                self._maybe(node, "loguru writes a local log file")

    def _built_path(self, sink: cst.BaseExpression) -> bool:
        """A loguru sink given as a built file path (``f"logs/{name}.log"``,
        ``Path.cwd().joinpath("log", "app.log")``), directly or through the one plain assignment of
        a name in the enclosing function: not a stream, a handler object or a callable."""
        if isinstance(sink, cst.Name):
            functions = self.ctx.enclosing_functions(sink)
            scope = functions[0].body if functions else self.ctx.module
            values = [
                stmt.value
                for stmt in walk(scope)
                if isinstance(stmt, cst.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0].target, cst.Name)
                and stmt.targets[0].target.value == sink.value
            ]
            if len(values) != 1:
                return False
            sink = values[0]
        code = self.ctx.module.code_for_node(sink)
        return bool(BUILT_LOG_PATH.search(code)) and "sys.std" not in code

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if string_value(node.key) == "class":
            value = string_value(node.value)
            if value is not None and HANDLER_CLASS.search(value):
                subject = f"logging handler `{value.rsplit('.', 1)[-1]}` writes a local log file"
                uses = self._factory_uses(node)
                for use in uses:
                    self._maybe(use, subject)
                if not uses:
                    self._maybe(node, subject)

    def _factory_uses(self, node: cst.DictElement) -> list[cst.Call]:
        """Where a handler factory (a module-level function returning the handler's dict) is
        called inside the ``LOGGING`` setting or a ``dictConfig(...)`` call: the handler the
        web process configures is there (a factory also used for a script's own logging
        configuration is not)."""
        functions = self.ctx.enclosing_functions(node)
        if len(functions) != 1 or not isinstance(self.ctx.parents.get(functions[0]), cst.Module):
            return []
        name = functions[0].name.value
        uses = []
        for call in self.ctx.nodes(cst.Call):
            if not (
                isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value == name
            ):
                continue
            for parent in self.ctx.ancestors(call):
                configured = isinstance(parent, cst.Call) and self.ctx.module.code_for_node(
                    parent.func
                ).endswith("dictConfig")
                if configured or (
                    isinstance(parent, cst.Assign)
                    and any(
                        isinstance(t.target, cst.Name) and t.target.value == "LOGGING" for t in parent.targets
                    )
                ):
                    uses.append(call)
                    break
        return uses

    def _maybe(self, node: cst.CSTNode, subject: str) -> None:
        if SCRIPT_PATHS.search(self.ctx.path) or under_main_guard(self.ctx, node):
            return
        self.report(node, subject, guard=self.ctx.guard(node))
