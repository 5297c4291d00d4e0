"""Lint rules, one small class per rule; ``ALL_RULES`` is the registry, in code order."""

from __future__ import annotations

from sessionkit.lint._rule import Rule
from sessionkit.lint.rules.app_state import AppStateAtRequestTime
from sessionkit.lint.rules.asgi_sessions import AsgiMemorySessions
from sessionkit.lint.rules.background import BackgroundThreadState
from sessionkit.lint.rules.caches import LocalCacheBackend
from sessionkit.lint.rules.channels import ChannelsInMemoryLayer
from sessionkit.lint.rules.databases import LocalDatabase
from sessionkit.lint.rules.files import RequestTimeFileWrite
from sessionkit.lint.rules.globals import GlobalRebinding
from sessionkit.lint.rules.jobs import InMemoryJobQueue
from sessionkit.lint.rules.logfiles import LocalLogFile
from sessionkit.lint.rules.mcp_sessions import StatefulMcpSessions
from sessionkit.lint.rules.media import LocalMediaRoot
from sessionkit.lint.rules.memoize import ModuleCacheAtRequestTime, PerUserMemoization
from sessionkit.lint.rules.module_state import ModuleStateMutation
from sessionkit.lint.rules.ratelimit import InMemoryRateLimit
from sessionkit.lint.rules.realtime import SocketIOWithoutMessageQueue, WebsocketRegistry
from sessionkit.lint.rules.schedulers import InProcessScheduler
from sessionkit.lint.rules.secrets import RandomSecretKey, RandomSecretKeyFallback
from sessionkit.lint.rules.sessions import DjangoLocalSessions, FlaskLocalSessions
from sessionkit.lint.rules.threadlocal import ThreadLocalStorage

__all__ = ["ALL_RULES", "RULES_BY_CODE"]


def _key(rule: type[Rule]) -> tuple[int, int]:
    number = int(rule.code[2:])
    return number % 100, number // 100


ALL_RULES: tuple[type[Rule], ...] = tuple(
    sorted(
        (
            RandomSecretKey,
            RandomSecretKeyFallback,
            DjangoLocalSessions,
            FlaskLocalSessions,
            AsgiMemorySessions,
            StatefulMcpSessions,
            LocalCacheBackend,
            LocalDatabase,
            ModuleStateMutation,
            GlobalRebinding,
            AppStateAtRequestTime,
            PerUserMemoization,
            ModuleCacheAtRequestTime,
            InMemoryRateLimit,
            WebsocketRegistry,
            SocketIOWithoutMessageQueue,
            ChannelsInMemoryLayer,
            InProcessScheduler,
            BackgroundThreadState,
            InMemoryJobQueue,
            RequestTimeFileWrite,
            LocalMediaRoot,
            LocalLogFile,
            ThreadLocalStorage,
        ),
        key=_key,
    )
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
