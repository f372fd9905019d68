"""The golive CrossGuard pack: `pulumi preview --policy-pack policy`."""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import ALL_POLICIES

PolicyPack(
    name="golive",
    description="Production-readiness rules of golive: every go-live requirement as a policy.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
