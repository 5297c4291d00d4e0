"""A HAND-WRITTEN subset of Emissary-ingress's v3alpha1 Mapping schema: only the fields we emit.

No package ships Emissary's CRD schema; this is transcribed from its v3alpha1 Go types
(``LoadBalancer``: policy enum, required; ``LoadBalancerCookie``: name required; ``MappingSpec``:
``prefix`` and ``service`` required). It is not the project's published schema. Every object refuses fields it does not declare
(``additionalProperties: false``), so a typo such as ``cookies`` fails as it would under
``kubectl apply --validate=strict``; a valid Mapping field we do not emit would fail too.
"""

from __future__ import annotations

from typing import Any

EMISSARY_MAPPING_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "getambassador.io/v3alpha1"},
        "kind": {"const": "Mapping"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["prefix", "service"],
            "additionalProperties": False,
            "properties": {
                "hostname": {"type": "string"},
                "prefix": {"type": "string"},
                "service": {"type": "string"},
                "resolver": {"type": "string"},
                "load_balancer": {
                    "type": "object",
                    "required": ["policy"],
                    "additionalProperties": False,
                    "properties": {
                        "policy": {"enum": ["round_robin", "ring_hash", "maglev", "least_request"]},
                        "cookie": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "path": {"type": "string"},
                                           "ttl": {"type": "string"}},
                        },
                        "header": {"type": "string"},
                        "source_ip": {"type": "boolean"},
                    },
                },
            },
        },
    },
}

