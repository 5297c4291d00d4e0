"""Category 16: log files written to the pod's own disk."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import keyword, string_value, under_main_guard

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
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, FILE_HANDLERS):
            self._maybe(node, f"`{self.ctx.module.code_for_node(node.func)}()` writes a local log file")
        elif self.ctx.calls(node, BASIC_CONFIG) and keyword(node, "filename") is not None:
            self._maybe(node, "`logging.basicConfig(filename=...)` writes a local log file")
        elif self.ctx.calls(node, LOGURU) and node.args:
            target = string_value(node.args[0].value)
            if target is not None and "." in target and not target.startswith(("sys.", "<")):
                self._maybe(node, "loguru writes a local log file")

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if string_value(node.key) == "class":
            value = string_value(node.value)
            if value is not None and HANDLER_CLASS.search(value):
                self._maybe(node, f"logging handler `{value.rsplit('.', 1)[-1]}` writes a local log file")

    def _maybe(self, node: cst.CSTNode, subject: str) -> None:
        if SCRIPT_PATHS.search(self.ctx.path) or under_main_guard(self.ctx, node):
            return
        self.report(node, subject, guard=self.ctx.guard(node))
