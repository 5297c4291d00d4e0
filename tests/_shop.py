"""What the example shops (examples/<framework>/{before,after}) answer on one replica, step by
step: login, me, add apple, add pear, cart, messages, messages again, logout, me."""

from __future__ import annotations

SHOP_JOURNEY = [
    (200, {"user": "ann"}),
    (200, {"user": "ann"}),
    (200, {"items": ["apple"]}),
    (200, {"items": ["apple", "pear"]}),
    (200, {"items": ["apple", "pear"]}),
    (200, {"messages": ["Welcome, ann!", "Added apple to your cart.", "Added pear to your cart."]}),
    (200, {"messages": []}),
    (200, {"user": None}),
    (401, {"error": "login required"}),
]
