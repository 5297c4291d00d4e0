"""The side-by-side table ``sessionkit demo`` prints."""

from __future__ import annotations

from collections.abc import Callable

from sessionkit.demo._variants import Outcome, Variant


def render(outcomes: dict[Variant, Outcome], users: int) -> str:
    """One column per variant: what the users saw, and what it cost Redis."""
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("requests sent (after login)", lambda o: str(o.logged_in + o.logged_out)),
        ("served logged-in", lambda o: str(o.logged_in)),
        ("served logged-out (401)", lambda o: str(o.logged_out)),
        ("errors (5xx / no answer)", lambda o: str(o.errors)),
        ("users the killed replica served", lambda o: f"{o.users_on_killed} of {users}"),
        ("sessions lost before the kill", lambda o: str(o.lost_before_kill)),
        ("sessions lost after the kill", lambda o: str(o.lost_after_kill)),
        ("sessions lost (users)", lambda o: f"{o.users_lost} of {users}"),
        ("carts wrong at check", lambda o: str(o.carts_wrong)),
        ("Redis reads per request (HGETALL)", lambda o: f"{o.reads_per_request:.2f}"),
        ("Redis writes per request (script)", lambda o: f"{o.writes_per_request:.2f}"),
        ("Redis commands per request, all", lambda o: f"{o.commands_per_request:.2f}"),
    ]
    variants = list(outcomes)
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(v.sessions), len(v.routing), 10) for v in variants]

    def line(label: str, cells: list[str]) -> str:
        return (label.ljust(width) + "  ".join(c.rjust(w) for c, w in zip(cells, cols))).rstrip()

    lines = [line("", [v.sessions for v in variants]), line("", [v.routing for v in variants])]
    lines.append("-" * (width + sum(cols) + 2 * (len(cols) - 1)))
    lines += [line(label, [cell(outcomes[v]) for v in variants]) for label, cell in rows]
    balancer = next(iter(outcomes.values())).balancer.split(" ")[0]
    lines += [
        "",
        f"Balancer: {'nginx' if balancer == 'nginx' else 'client-side'}; one replica killed (SIGKILL) "
        "halfway through.",
        "Cookie affinity pins each user to one replica: it keeps in-process sessions only until that",
        "replica dies. With sessionkit any replica serves any user.",
        "Journey per user: log in, then /me reads, a cart add every 5th and a cart check every "
        "10th request.",
        "'all' counts the commands inside sessionkit's write script too; it is one round trip.",
        "Fewer reads than requests: a replica serves a session it has read before from its local",
        "copy, which Redis invalidates on every write (CLIENT TRACKING), so repeated reads cost none.",
    ]
    return "\n".join(lines)
