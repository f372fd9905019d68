package router

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/config"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// SDKClients builds ELB clients with the SDK's default configuration: credentials from the environment the controller
// gives its plugin (in its pod, the IRSA web identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE), the standard
// retryer, and AWS_ENDPOINT_URL where set (the tests' moto server). Nothing is called until the first request.
func SDKClients() ClientFactory {
	return func(ctx context.Context, region string) (ELB, error) {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
		if err != nil {
			return nil, err
		}
		return elbv2.NewFromConfig(cfg), nil
	}
}
