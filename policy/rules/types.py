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
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"

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
        NETWORK_ACL,
        "aws:iam/role:Role",
    }
)

# --- section: cluster ---
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_ADDON = "aws:eks/addon:Addon"
EKS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
IAM_ROLE = "aws:iam/role:Role"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
PROVIDER_KUBERNETES = "pulumi:providers:kubernetes"
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
K8S_PDB = "kubernetes:policy/v1:PodDisruptionBudget"
K8S_RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
K8S_LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
K8S_STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"

TAGGABLE_CLUSTER: frozenset[str] = frozenset(
    {
        EKS_CLUSTER,
        EKS_NODE_GROUP,
        EKS_ADDON,
        EKS_ACCESS_ENTRY,
        LAUNCH_TEMPLATE,
        OIDC_PROVIDER,
        IAM_ROLE,
        SG_INGRESS_RULE,
        SG_EGRESS_RULE,
        SECURITY_GROUP,
        LOG_GROUP,
        KMS_KEY,
    }
)
# --- end section: cluster ---

# --- section: data ---
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
ELASTICACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
ELASTICACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
ELASTICACHE_PARAMETER_GROUP = "aws:elasticache/parameterGroup:ParameterGroup"
ELASTICACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"

TAGGABLE_DATA = frozenset(
    {
        RDS_INSTANCE,
        RDS_PARAMETER_GROUP,
        RDS_SUBNET_GROUP,
        ELASTICACHE_REPLICATION_GROUP,
        ELASTICACHE_PARAMETER_GROUP,
        ELASTICACHE_SUBNET_GROUP,
        SECRET,
        LAMBDA_FUNCTION,
        SECURITY_GROUP,
        LOG_GROUP,
        KMS_KEY,
        "aws:iam/role:Role",
    }
)
# --- end section: data ---

# --- section: edge ---
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
CERTIFICATE = "aws:acm/certificate:Certificate"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
IP_SET = "aws:wafv2/ipSet:IpSet"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
SHIELD_PROTECTION = "aws:shield/protection:Protection"
S3_BUCKET = "aws:s3/bucket:Bucket"
CLOUDTRAIL = "aws:cloudtrail/trail:Trail"
GUARDDUTY_DETECTOR = "aws:guardduty/detector:Detector"
GUARDDUTY_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
SECURITYHUB_ACCOUNT = "aws:securityhub/account:Account"
SECURITYHUB_STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
CLIENT_VPN_ENDPOINT = "aws:ec2clientvpn/endpoint:Endpoint"
CLIENT_VPN_AUTHORIZATION = "aws:ec2clientvpn/authorizationRule:AuthorizationRule"

TAGGABLE_EDGE: frozenset[str] = frozenset(
    {
        LOAD_BALANCER,
        LISTENER,
        LISTENER_RULE,
        TARGET_GROUP,
        CERTIFICATE,
        WEB_ACL,
        IP_SET,
        SHIELD_PROTECTION,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        S3_BUCKET,
        CLOUDTRAIL,
        GUARDDUTY_DETECTOR,
        CLIENT_VPN_ENDPOINT,
        SECURITY_GROUP,
        LOG_GROUP,
        KMS_KEY,
        "aws:iam/role:Role",
    }
)
# --- end section: edge ---

# --- section: monitoring ---
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROBE = "kubernetes:monitoring.coreos.com/v1:Probe"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
K8S_JOB = "kubernetes:batch/v1:Job"
TAGGABLE_MONITORING: frozenset[str] = frozenset(
    {
        OPENSEARCH_DOMAIN,
        "aws:secretsmanager/secret:Secret",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
    }
)
# --- end section: monitoring ---

# --- section: backup ---
# pulumi_aws 7 renamed BucketV2 (and its V2 satellites) to the plain names; the V2
# tokens remain as deprecated aliases, so the S3 rules accept both spellings.
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_VERSIONINGS = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_ENCRYPTIONS = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_LOGGINGS = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
BACKUP_VAULT_NOTIFICATIONS = "aws:backup/vaultNotifications:VaultNotifications"
RDS_BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_OBJECT_LOCKS = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
S3_LIFECYCLES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
RDS_DATABASES = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
SNS_TOPIC = "aws:sns/topic:Topic"

TAGGABLE_BACKUP: frozenset[str] = frozenset(
    {S3_BUCKETS[0], BACKUP_VAULT, BACKUP_PLAN, SNS_TOPIC, "aws:kms/key:Key", "aws:iam/role:Role"}
)
# --- end section: backup ---

# --- section: delivery ---
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
ANALYSIS_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
TAGGABLE_DELIVERY: frozenset[str] = frozenset({"aws:iam/role:Role"})
# --- end section: delivery ---

# --- section: account ---
SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
CONFIG_RECORDER = "aws:cfg/recorder:Recorder"
CONFIG_DELIVERY_CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
CONFIG_RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"
TAGGABLE_ACCOUNT: frozenset[str] = frozenset({SERVICE_LINKED_ROLE})
# --- end section: account ---

# --- section: operational proof (restore tests, game days) ---
RESTORE_TESTING_PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
RESTORE_TESTING_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
FIS_EXPERIMENT = "aws:fis/experimentTemplate:ExperimentTemplate"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EBS_VOLUME = "aws:ebs/volume:Volume"
TAGGABLE_RESILIENCE: frozenset[str] = frozenset({RESTORE_TESTING_PLAN, FIS_EXPERIMENT, METRIC_ALARM, "aws:rds/subnetGroup:SubnetGroup"})
# --- end section: operational proof ---

TAGGABLE = (
    TAGGABLE_ACCOUNT
    | TAGGABLE_NETWORK
    | TAGGABLE_CLUSTER
    | TAGGABLE_DATA
    | TAGGABLE_EDGE
    | TAGGABLE_MONITORING
    | TAGGABLE_BACKUP
    | TAGGABLE_DELIVERY
    | TAGGABLE_RESILIENCE
)

# The network pieces the reachability model (netmodel.py) reads beyond the ones above.
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
MAIN_ROUTE_TABLE_ASSOCIATION = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
TRANSIT_GATEWAY_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
VPC_PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
VPC_CIDR_ASSOCIATION = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
NETWORK_ACL_ASSOCIATION = "aws:ec2/networkAclAssociation:NetworkAclAssociation"
ALB_LOAD_BALANCER = "aws:alb/loadBalancer:LoadBalancer"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
ELASTICACHE_SERVERLESS = "aws:elasticache/serverlessCache:ServerlessCache"
CLIENT_VPN_NETWORK_ASSOCIATION = "aws:ec2clientvpn/networkAssociation:NetworkAssociation"
CLIENT_VPN_ROUTE = "aws:ec2clientvpn/route:Route"
