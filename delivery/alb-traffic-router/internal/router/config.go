package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

// PluginName is the name under which the controller's ConfigMap installs the plugin and Rollouts reference it
// (spec.strategy.canary.trafficRouting.plugins.<PluginName>).
const PluginName = "golive/alb-listener-rule"

// DefaultMaxTrafficWeight is Argo Rollouts' total weight when trafficRouting.maxTrafficWeight is unset.
const DefaultMaxTrafficWeight = 100

// MaxALBWeight is the largest weight an ALB forward action accepts for one target group.
const MaxALBWeight = 999

// Config is one Rollout's plugin configuration: the listener rule whose forward action the plugin weighs and the
// two target groups of that action. Every ARN lives in Region, in one account and partition.
type Config struct {
	ListenerRuleArn      string `json:"listenerRuleArn"`
	StableTargetGroupArn string `json:"stableTargetGroupArn"`
	CanaryTargetGroupArn string `json:"canaryTargetGroupArn"`
	Region               string `json:"region"`
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// arn:<partition>:elasticloadbalancing:<region>:<account>:<resource>
	arnPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):elasticloadbalancing:([a-z0-9-]+):([0-9]{12}):(.+)$`)
	// listener-rule/app/<load balancer name>/<load balancer id>/<listener id>/<rule id>
	rulePattern = regexp.MustCompile(`^listener-rule/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`)
	// targetgroup/<name>/<id>
	targetGroupPattern = regexp.MustCompile(`^targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`)
)

type arn struct{ partition, region, account, resource string }

func parseARN(field, value string, resource *regexp.Regexp, what string) (arn, error) {
	m := arnPattern.FindStringSubmatch(value)
	if m == nil {
		return arn{}, fmt.Errorf("%s %q is not an Elastic Load Balancing ARN (arn:<partition>:elasticloadbalancing:<region>:<account>:...)", field, value)
	}
	if !resource.MatchString(m[4]) {
		return arn{}, fmt.Errorf("%s %q is not the ARN of %s", field, value, what)
	}
	return arn{partition: m[1], region: m[2], account: m[3], resource: m[4]}, nil
}

// ParseConfig reads a plugin configuration strictly: a single JSON object with exactly the four fields (names as
// written, no others), each a string, the three ARNs well formed, in the configured region and in one account. It
// never panics; every problem found is listed in the error.
func ParseConfig(raw []byte) (Config, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return Config{}, errors.New("plugin configuration is empty: it needs " + strings.Join(configFields, ", "))
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil {
		return Config{}, fmt.Errorf("plugin configuration is not a JSON object with %s: %w", strings.Join(configFields, ", "), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("plugin configuration has data after its JSON object")
	}
	var cfg Config
	targets := map[string]*string{
		"listenerRuleArn": &cfg.ListenerRuleArn, "stableTargetGroupArn": &cfg.StableTargetGroupArn,
		"canaryTargetGroupArn": &cfg.CanaryTargetGroupArn, "region": &cfg.Region,
	}
	var problems []string
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target, known := targets[name]
		if !known {
			problems = append(problems, fmt.Sprintf("unknown field %q (the fields are %s)", name, strings.Join(configFields, ", ")))
			continue
		}
		value := fields[name]
		if bytes.Equal(bytes.TrimSpace(value), []byte("null")) || json.Unmarshal(value, target) != nil {
			problems = append(problems, fmt.Sprintf("%s must be a string, not %s", name, shorten(string(value))))
		}
	}
	if len(problems) > 0 {
		return Config{}, errors.New("plugin configuration: " + strings.Join(problems, "; "))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var configFields = []string{"listenerRuleArn", "stableTargetGroupArn", "canaryTargetGroupArn", "region"}

func shorten(text string) string {
	if len(text) > 40 {
		return text[:37] + "..."
	}
	return text
}

// Validate lists every problem of a configuration in one error (nil when there is none).
func (c Config) Validate() error {
	var problems []string
	add := func(err error) { problems = append(problems, err.Error()) }
	required := map[string]string{
		"listenerRuleArn": c.ListenerRuleArn, "stableTargetGroupArn": c.StableTargetGroupArn,
		"canaryTargetGroupArn": c.CanaryTargetGroupArn, "region": c.Region,
	}
	for _, field := range configFields {
		if strings.TrimSpace(required[field]) == "" {
			add(fmt.Errorf("%s is missing", field))
		}
	}
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		add(fmt.Errorf("region %q is not an AWS region name such as eu-west-1", c.Region))
	}
	var arns []arn
	check := func(field, value string, resource *regexp.Regexp, what string) {
		if value == "" {
			return
		}
		parsed, err := parseARN(field, value, resource, what)
		if err != nil {
			add(err)
			return
		}
		if c.Region != "" && parsed.region != c.Region {
			add(fmt.Errorf("%s %q is in region %s, not in the configured region %s", field, value, parsed.region, c.Region))
		}
		arns = append(arns, parsed)
	}
	check("listenerRuleArn", c.ListenerRuleArn, rulePattern, "an Application Load Balancer listener rule (listener-rule/app/...)")
	check("stableTargetGroupArn", c.StableTargetGroupArn, targetGroupPattern, "a target group (targetgroup/...)")
	check("canaryTargetGroupArn", c.CanaryTargetGroupArn, targetGroupPattern, "a target group (targetgroup/...)")
	for _, other := range arns[min(1, len(arns)):] {
		if other.partition != arns[0].partition || other.account != arns[0].account {
			add(errors.New("listenerRuleArn, stableTargetGroupArn and canaryTargetGroupArn must be in one account and partition"))
			break
		}
	}
	if c.StableTargetGroupArn != "" && c.StableTargetGroupArn == c.CanaryTargetGroupArn {
		add(errors.New("stableTargetGroupArn and canaryTargetGroupArn are the same target group: the canary would get no traffic of its own"))
	}
	if len(problems) > 0 {
		return errors.New("plugin configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// ConfigOf reads the plugin's configuration from a Rollout (spec.strategy.canary.trafficRouting.plugins).
func ConfigOf(rollout *v1alpha1.Rollout) (Config, error) {
	if rollout == nil {
		return Config{}, errors.New("no Rollout given")
	}
	canary := rollout.Spec.Strategy.Canary
	if canary == nil || canary.TrafficRouting == nil {
		return Config{}, fmt.Errorf("Rollout %s has no canary trafficRouting", rolloutName(rollout))
	}
	raw, ok := canary.TrafficRouting.Plugins[PluginName]
	if !ok {
		return Config{}, fmt.Errorf("Rollout %s has no trafficRouting.plugins.%s", rolloutName(rollout), PluginName)
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("Rollout %s: %w", rolloutName(rollout), err)
	}
	return cfg, nil
}

// MaxTrafficWeight is the Rollout's total weight: the weights of the stable and canary target groups add up to it.
func MaxTrafficWeight(rollout *v1alpha1.Rollout) (int32, error) {
	total := int32(DefaultMaxTrafficWeight)
	if c := rollout.Spec.Strategy.Canary; c != nil && c.TrafficRouting != nil && c.TrafficRouting.MaxTrafficWeight != nil {
		total = *c.TrafficRouting.MaxTrafficWeight
	}
	if total < 1 || total > MaxALBWeight {
		return 0, fmt.Errorf("Rollout %s: trafficRouting.maxTrafficWeight %d is outside 1-%d, the weights an ALB target group takes",
			rolloutName(rollout), total, MaxALBWeight)
	}
	return total, nil
}

func rolloutName(rollout *v1alpha1.Rollout) string {
	if rollout.Namespace == "" {
		return rollout.Name
	}
	return rollout.Namespace + "/" + rollout.Name
}
