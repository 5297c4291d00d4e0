"""Category 12: Django Channels with its in-process channel layer."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import literal_or_default, string_value

CHANNELS_IN_MEMORY = "channels.layers.InMemoryChannelLayer"


class ChannelsInMemoryLayer(Rule):
    """Django Channels configured with ``InMemoryChannelLayer``.

    Groups and ``channel_layer.send`` work only between consumers of the same process.
    """

    code = "SK112"
    name = "channels-in-memory-layer"
    category = "channels"
    severity = "error"
    remedy = "refactor"
    prefilter = (r"InMemoryChannelLayer",)
    message = (
        "the in-memory channel layer only connects consumers in this process, so group messages "
        'never reach clients on other replicas; use `"channels_redis.core.RedisChannelLayer"` '
        "with your Redis"
    )
    fix_hint = (
        'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", '
        '"CONFIG": {"hosts": [REDIS_URL]}}}'
    )
    valid = examples(
        """
            if DEBUG:
                CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        """,
        """
            CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
        """,
        """
            CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"}}
        """,
        '''
            """Do not use channels.layers.InMemoryChannelLayer in production."""
        ''',
        """
            LAYER = "redis"
        """,
        """
            CHANNEL_LAYERS = {}
        """,
    )
    invalid = examples(
        """
            CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        """,
        """
            CHANNEL_LAYERS = dict(default={"BACKEND": "channels.layers.InMemoryChannelLayer"})
        """,
        """
            import os
            CHANNEL_LAYERS = {
                "default": {"BACKEND": os.environ.get("LAYER", "channels.layers.InMemoryChannelLayer")}
            }
        """,
        """
            import os
            if not os.environ.get("REDIS_URL"):
                CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        """,
        """
            CHANNEL_LAYERS = {
                "default": {
                    "BACKEND": "channels.layers.InMemoryChannelLayer",
                },
            }
        """,
    )

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if string_value(node.key) == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value, {CHANNELS_IN_MEMORY})
            if value == CHANNELS_IN_MEMORY:
                self.report(holder, "`InMemoryChannelLayer`", guard=self.ctx.guard(holder))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value, {CHANNELS_IN_MEMORY})
            if value == CHANNELS_IN_MEMORY:
                self.report(holder, "`InMemoryChannelLayer`", guard=self.ctx.guard(holder))
