"""Helm v3 releases as golive installs its charts.

A pinned chart version from its repository, ten revisions of history kept for
``helm rollback``, and a failed upgrade's new resources removed (``cleanup_on_fail``),
so a release that did not converge leaves nothing half-installed behind.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

HISTORY = 10


def chart_release(
    resource_name: str,
    *,
    release: str,
    chart: str,
    version: str,
    repo: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[Mapping],
    opts: pulumi.ResourceOptions,
    timeout: int = 600,
    atomic: bool | None = None,
) -> k8s.helm.v3.Release:
    """One chart release; ``atomic`` also rolls a failed upgrade back."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        atomic=atomic,
        cleanup_on_fail=True,
        max_history=HISTORY,
        timeout=timeout,
        values=values,
        opts=opts,
    )
