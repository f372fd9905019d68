"""The AWS regions golive deploys to: the one table every region setting is checked against."""

from __future__ import annotations

from .parser import Problem, _shown, difflib_closest

# The AWS regions golive deploys to, by partition: the one table every region setting is checked against
# (botocore's endpoint data lists the same: tests/test_config.py). A region AWS opens later is added here.
AWS_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}


def partition_of(region: str) -> str | None:
    """The partition of a known region (None: not a region of AWS_REGIONS)."""
    return next((partition for partition, regions in AWS_REGIONS.items() if region in regions), None)


def check_region(key: str, value: str, problems: list[Problem]) -> bool:
    """Whether ``value`` is a known AWS region; records the problem if not."""
    if partition_of(value) is not None:
        return True
    close = difflib_closest(value, [r for regions in AWS_REGIONS.values() for r in regions])
    hint = f" (did you mean {close!r}?)" if close else ""
    problems.append(Problem(key, _shown(value), f"must be a known AWS region{hint}: golive's region table "
                            "(components/config/regions.py) lists every region of the aws, aws-cn and aws-us-gov partitions"))
    return False
