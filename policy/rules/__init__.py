"""golive's policies, importable without starting the pack's gRPC server.

``policy/__main__.py`` hands ``ALL_POLICIES`` to ``PolicyPack``; the offline engine
(``python -m golive check``) applies the same objects. Each area module exports
``POLICIES``; add a new module to ``_AREAS``.
"""

from . import backup, cluster, common, data, delivery, edge, iam, monitoring, network, reachability, s3, security, security_groups
from ._base import CATEGORIES, META

_AREAS = (network, common, iam, security_groups, data, cluster, edge, security, monitoring, s3, backup, delivery, reachability)

ALL_POLICIES = [policy for area in _AREAS for policy in area.POLICIES]

__all__ = ["ALL_POLICIES", "CATEGORIES", "META"]
