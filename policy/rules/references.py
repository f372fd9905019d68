"""References between resources, checked where a first preview can see them: in property dependencies.

Policies that need an input naming another resource (a KMS key, a role, a certificate, …)
declare it with ``declare_reference``; at a first preview its value is an unknown ARN, so
they only check that it is set. This policy proves the rest: whatever resource of the
stack feeds the input is of the declared kind.
"""

from __future__ import annotations

from pulumi_policy import Severity

# The modules that declare references, imported first so the declared types below are complete.
from . import backup, cluster, common, data, delivery, edge, monitoring, network, resilience, s3, security  # noqa: F401
from ._base import REFERENCES, UNKNOWN, depends_via, peek, stack_policy


def _check_references(args, cfg):
    """Each declared reference that a resource of this stack feeds is fed by one of the declared kind."""
    for resource in args.resources:
        for path, kinds in sorted(REFERENCES.get(resource.resource_type, {}).items()):
            value = peek(resource.props, path)
            if not value:
                continue  # unset: the policy that needs it reports that
            sources = depends_via(resource, path.split(".")[0])
            if not sources:
                if value is UNKNOWN:
                    yield (f"{resource.name}.{path} is unknown at preview but no resource of the stack feeds it, so what it "
                           "names cannot be checked."), resource.urn
                continue  # a literal ARN or id: checked by the policy that reads it
            if not any(source.resource_type in kinds for source in sources):
                found = ", ".join(sorted({f"{s.name} ({s.resource_type})" for s in sources}))
                wanted = ", ".join(kinds)
                yield f"{resource.name}.{path} comes from {found}, not from a {wanted}.", resource.urn


references_resolve = stack_policy(
    name="aws-references-resolve",
    description=("Every input that names another resource of the stack (a KMS key, a role, a certificate, a log group, a "
                 "bucket) names one of the right kind: checked through property dependencies, so a first preview decides "
                 "it while the ARNs are still unknown."),
    check=_check_references,
    types=tuple(sorted(REFERENCES)),  # the referring types; what feeds them is reached through their links
    whole_stack=True,
    severity=Severity.HIGH,
    category="Security",
    remediation="Pass the output of the right resource (e.g. a components.kms.EncryptionKey's arn for a KMS key input).",
)


POLICIES = [references_resolve]
