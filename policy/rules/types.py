"""Resource type tokens, in one place, so rules never spell them twice."""

PROVIDER_AWS = "pulumi:providers:aws"

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"

# AWS types whose resources accept `tags`, per area (tests/policy/test_types.py
# keeps the union in step with pulumi_aws for every type the program declares).
TAGGABLE_NETWORK = frozenset(
    {
        VPC,
        SUBNET,
        NAT_GATEWAY,
        ROUTE_TABLE,
        SECURITY_GROUP,
        DEFAULT_SECURITY_GROUP,
        FLOW_LOG,
        VPC_ENDPOINT,
        LOG_GROUP,
        KMS_KEY,
        "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/networkAcl:NetworkAcl",
        "aws:iam/role:Role",
    }
)

# --- section: cluster (issue 4) ---
TAGGABLE_CLUSTER: frozenset[str] = frozenset()
# --- end section: cluster ---

# --- section: data (issue 3) ---
TAGGABLE_DATA: frozenset[str] = frozenset()
# --- end section: data ---

# --- section: edge (issue 5) ---
TAGGABLE_EDGE: frozenset[str] = frozenset()
# --- end section: edge ---

# --- section: monitoring (issue 6) ---
TAGGABLE_MONITORING: frozenset[str] = frozenset()
# --- end section: monitoring ---

# --- section: backup (issue 7) ---
TAGGABLE_BACKUP: frozenset[str] = frozenset()
# --- end section: backup ---

# --- section: delivery (issue 10) ---
TAGGABLE_DELIVERY: frozenset[str] = frozenset()
# --- end section: delivery ---

TAGGABLE = (
    TAGGABLE_NETWORK
    | TAGGABLE_CLUSTER
    | TAGGABLE_DATA
    | TAGGABLE_EDGE
    | TAGGABLE_MONITORING
    | TAGGABLE_BACKUP
    | TAGGABLE_DELIVERY
)
