"""Accepted risks, reported where every result is: in the pack's diagnostics.

A resource that exempts itself from a policy (tag ``golive:exempt:<policy>`` or
annotation ``exempt.golive.dev/<policy>``, the reason as value) turns that policy's
findings on it into accepted risks. These two policies run last in each request and
report them as advisory diagnostics, ``<policy>: <message> (accepted risk: <reason>)``:
`pulumi preview --policy-pack policy` prints them as warnings and golive's check lists
them as accepted risks, never as passes.
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, Severity, StackValidationPolicy

from ._base import ADVISORY, _register, _tags, accepted, accepted_risk_message

CATEGORY = "Compliance"
REMEDIATION = ("Review the reason with the resource's owner; fix the finding and remove the exemption tag or annotation "
               "when the risk is no longer acceptable.")


def _report_resource(args, report_violation) -> None:
    for urn, policy, message, reason in accepted(args.urn):
        report_violation(accepted_risk_message(policy, message, reason), urn)


def _report_stack(args, report_violation) -> None:
    for urn, policy, message, reason in accepted(""):
        report_violation(accepted_risk_message(policy, message, reason), urn or None)


RESOURCE_RISKS = "exemption-accepted-risk"
STACK_RISKS = "exemption-accepted-stack-risk"
_register(RESOURCE_RISKS, CATEGORY, (), (), {})
_register(STACK_RISKS, CATEGORY, (), (), {})

accepted_resource_risks = ResourceValidationPolicy(
    name=RESOURCE_RISKS,
    description="Reports each finding of a resource policy that its resource exempts itself from, with the reason: an accepted risk.",
    validate=_report_resource,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    tags=_tags(CATEGORY, ()),
    remediation_steps=REMEDIATION,
)

accepted_stack_risks = StackValidationPolicy(
    name=STACK_RISKS,
    description="Reports each finding of a stack policy that the resource it names exempts itself from, with the reason: an accepted risk.",
    validate=_report_stack,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    tags=_tags(CATEGORY, ()),
    remediation_steps=REMEDIATION,
)

# Last in ALL_POLICIES: the servicer runs a request's policies in order, so every other policy has run.
POLICIES = [accepted_resource_risks, accepted_stack_risks]
EXEMPTION_POLICIES = (RESOURCE_RISKS, STACK_RISKS)
