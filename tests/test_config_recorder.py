"""The ConfigRecorder (a child of the security Baseline): AWS Config recording, delivery and the policy that wants it."""

from __future__ import annotations

import json

from tests.helpers import deps, of_type, one, props


def attached_to(synth, bucket):
    return {r["type"].rsplit(":", 1)[1]: r for r in synth.resources if deps(r, "bucket") == [bucket["urn"]]}


RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
RECORDING = "aws:cfg/recorderStatus:RecorderStatus"
CONFIG_ROLE_ARN = "arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


def test_config_records_every_supported_type_with_its_service_linked_role(prod):
    """Security Hub's FSBP and CIS controls evaluate AWS Config; without a recorder Config.1 fails and most report nothing."""
    recorder = one(prod, RECORDER)
    assert props(recorder)["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    assert props(recorder)["recordingMode"] == {"recordingFrequency": "CONTINUOUS"}
    assert props(recorder)["roleArn"] == CONFIG_ROLE_ARN
    (role,) = [r for r in of_type(prod, "aws:iam/serviceLinkedRole:ServiceLinkedRole") if props(r)["awsServiceName"] == "config.amazonaws.com"]
    assert role["urn"] in recorder["options"]["dependsOn"]


def test_config_delivers_to_an_encrypted_bucket_only_it_writes_to(prod):
    channel = one(prod, CHANNEL)
    assert props(channel)["name"] == props(one(prod, RECORDER))["name"] == "default"
    assert props(channel)["snapshotDeliveryProperties"] == {"deliveryFrequency": "TwentyFour_Hours"}
    bucket = prod.by_urn()[deps(channel, "s3BucketName")[0]]
    key = prod.by_urn()[deps(channel, "s3KmsKeyArn")[0]]
    key_statements = json.loads(props(key)["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "config.amazonaws.com"} and s["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
               for s in key_statements)
    attached = attached_to(prod, bucket)
    (rule,) = props(attached["BucketServerSideEncryptionConfiguration"])["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert deps(attached["BucketServerSideEncryptionConfiguration"], "rules") == [key["urn"]]
    statements = {s["Sid"]: s for s in json.loads(props(attached["BucketPolicy"])["policy"])["Statement"]}
    delivery = statements["AWSConfigBucketDelivery"]
    assert delivery["Principal"] == {"Service": "config.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"].endswith("/AWSLogs/123456789012/Config/*")
    assert delivery["Condition"]["StringEquals"] == {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": "123456789012"}
    assert {"AWSConfigBucketPermissionsCheck", "AWSConfigBucketExistenceCheck", "DenyInsecureTransport"} <= set(statements)
    assert attached["BucketPolicy"]["urn"] in channel["options"]["dependsOn"]  # AWS Config checks the bucket when the channel is put


def test_recording_is_switched_on_after_the_channel_exists(prod):
    status = one(prod, RECORDING)
    assert props(status)["isEnabled"] is True and deps(status, "name") == [one(prod, RECORDER)["urn"]]
    assert one(prod, CHANNEL)["urn"] in status["options"]["dependsOn"]


def test_the_config_recorder_policy_passes_the_prod_stack_and_fails_without_a_recorder(prod):
    from tests.helpers import drop, findings

    assert findings(prod, "security-config-recorder") == []
    without = drop(prod, lambda r: r["type"] in (RECORDER, CHANNEL, RECORDING))
    (finding,) = findings(without, "security-config-recorder")
    assert "no AWS Config recorder" in finding.message and finding.urn == one(prod, "aws:ec2/vpc:Vpc")["urn"]


def test_the_config_recorder_policy_fails_a_partial_recorder_never_switched_on(prod):
    from tests.helpers import drop, findings, mutate

    recorder = one(prod, RECORDER)
    partial = mutate(drop(prod, lambda r: r["type"] == RECORDING), recorder["urn"],
                     lambda r: r["inputs"].update(recordingGroup={"allSupported": False, "includeGlobalResourceTypes": False}))
    messages = sorted(f.message for f in findings(partial, "security-config-recorder"))
    assert len(messages) == 3
    assert any("does not record all supported" in m for m in messages) and any("skips global" in m for m in messages)
    assert any("never switched on" in m for m in messages)
