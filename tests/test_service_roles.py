"""ServiceLinkedRoles: the three service-linked roles a new account lacks, per golive:singletons mode."""

from __future__ import annotations

import pytest

from components.config import AwsAccount
from components.service_roles import role_arn
from tests.helpers import of_type, props

SLR = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
# AWS's service principals and role ARNs (IAM "Using service-linked roles" for each service).
ROLES = {
    "autoscaling.amazonaws.com": "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    "opensearchservice.amazonaws.com":
        "arn:aws:iam::123456789012:role/aws-service-role/opensearchservice.amazonaws.com/AWSServiceRoleForAmazonOpenSearchService",
    "config.amazonaws.com": "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
}


def test_a_new_account_gets_the_three_roles_aws_does_not_create_in_time(prod):
    declared = {props(r)["awsServiceName"]: r for r in of_type(prod, SLR)}
    assert set(declared) == set(ROLES)
    assert all(r["options"]["retainOnDelete"] is False for r in declared.values())


@pytest.mark.parametrize("key, service", [("autoscaling", "autoscaling.amazonaws.com"),
                                          ("opensearch", "opensearchservice.amazonaws.com"), ("config", "config.amazonaws.com")])
def test_role_arns_are_the_ones_aws_gives_them(key, service):
    assert role_arn(AwsAccount("123456789012", "eu-west-1"), key) == ROLES[service]


def test_adopted_roles_are_declared_in_the_all_phase_only_and_kept_on_destroy(synth_config, prod):
    adopt = {"singletons": {"autoscalingRole": {"mode": "adopt"}, "opensearchRole": {"mode": "adopt"}}}
    first = synth_config({"phase": "infrastructure", **adopt, "singletons": {**adopt["singletons"], "configRole": {
        "mode": "skip", "reason": "created by the organization baseline"}}})
    assert of_type(first, SLR) == []
    everything = synth_config(adopt)
    by_service = {props(r)["awsServiceName"]: r for r in of_type(everything, SLR)}
    created = {props(r)["awsServiceName"]: r for r in of_type(prod, SLR)}
    for service in ("autoscaling.amazonaws.com", "opensearchservice.amazonaws.com"):
        assert by_service[service]["options"]["retainOnDelete"] is True and by_service[service]["urn"] == created[service]["urn"]
    assert by_service["config.amazonaws.com"]["options"]["retainOnDelete"] is False


def test_a_skipped_recorder_needs_no_config_role(synth_config):
    result = synth_config({"singletons": {"configRecorder": {"mode": "skip", "reason": "AWS Control Tower records AWS Config"}}})
    assert sorted(props(r)["awsServiceName"] for r in of_type(result, SLR)) == ["autoscaling.amazonaws.com", "opensearchservice.amazonaws.com"]
