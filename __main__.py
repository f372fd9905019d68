"""golive: the production platform. Loads config, wires components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components import config as golive_config
from components.network import Network, NetworkArgs

config, secrets = golive_config.load()

# Every AWS resource goes through this provider (default providers are disabled
# in the stack config), so a stack never depends on ambient AWS settings.
aws_provider = aws.Provider(
    "aws-primary",
    region=config.region,
    allowed_account_ids=[config.account_id],
    default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags),
)
aws_opts = pulumi.ResourceOptions(providers={"aws": aws_provider})

network = Network("golive", NetworkArgs(config=config.network, account=config.aws), opts=aws_opts)
pulumi.export("region", config.region)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("isolatedSubnetIds", network.isolated_subnet_ids)

# --- cluster (issue 4) ---
# --- end cluster ---

# --- data (issue 3) ---
# --- end data ---

# --- edge (issue 5) ---
# --- end edge ---

# --- monitoring (issue 6) ---
# --- end monitoring ---

# --- backup (issue 7) ---
# --- end backup ---

# --- delivery (issue 10) ---
# --- end delivery ---
