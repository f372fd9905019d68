"""golive's policies, importable without starting the pack's gRPC server.

``policy/__main__.py`` hands ``ALL_POLICIES`` to ``PolicyPack``; the offline engine
(``python -m golive check``) applies the same objects. Each area module exports
``POLICIES``; add a new module to ``_AREAS``.
"""

from . import (
    backup,
    cluster,
    common,
    data,
    delivery,
    edge,
    exemptions,
    iam,
    monitoring,
    network,
    reachability,
    references,
    resilience,
    s3,
    security,
    security_groups,
    telemetry,
)
from ._base import CATEGORIES, META
from .exemptions import EXEMPTION_POLICIES

# `references` checks what the others declare; `exemptions` reports what the others accepted, so it runs last.
_AREAS = (network, common, iam, security_groups, data, cluster, edge, security, monitoring, telemetry, s3, backup, delivery,
          reachability, resilience, references, exemptions)

ALL_POLICIES = [policy for area in _AREAS for policy in area.POLICIES]

__all__ = ["ALL_POLICIES", "CATEGORIES", "EXEMPTION_POLICIES", "META"]
