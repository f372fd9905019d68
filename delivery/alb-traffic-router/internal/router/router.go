// Package router is the golive/alb-listener-rule traffic router: it moves a canary's share of the requests by
// setting the weights of the two target groups of an Application Load Balancer listener rule's forward action.
//
// The load balancer, its listener rules and both target groups belong to the infrastructure code (Pulumi), which
// ignores later changes of those weights; the plugin changes nothing else. Header and mirror routes would need rules
// of its own on a listener it does not own, so it refuses them.
package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"
)

// Version of the plugin, the one its release is tagged with (alb-traffic-router-v<Version>).
const Version = "0.1.0"

// CallTimeout bounds each AWS call (the SDK retries throttling and transient errors inside it), so a hung API
// never blocks the controller's reconciliation.
const CallTimeout = 30 * time.Second

// ELB is the part of the Elastic Load Balancing v2 API the plugin calls; the controller's IRSA role grants exactly
// these two (ModifyRule only on listener rules tagged golive:delivery=canary).
type ELB interface {
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
}

// ClientFactory returns the ELB client of a region.
type ClientFactory func(ctx context.Context, region string) (ELB, error)

// Router implements Argo Rollouts' TrafficRouterPlugin (rollout/trafficrouting/plugin/rpc).
type Router struct {
	// NewClient builds the ELB client of a region; Init sets it to the SDK's, with the default credential chain
	// (in the controller's pod: its IRSA web identity).
	NewClient ClientFactory
	Log       hclog.Logger

	mu      sync.Mutex
	clients map[string]ELB
	rules   map[string]*sync.Mutex
}

// New returns a Router that builds its clients with newClient.
func New(newClient ClientFactory, log hclog.Logger) *Router {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Router{NewClient: newClient, Log: log}
}

func rpcError(format string, args ...any) types.RpcError {
	return types.RpcError{ErrorString: fmt.Sprintf(format, args...)}
}

func fromError(err error) types.RpcError {
	if err == nil {
		return types.RpcError{}
	}
	return types.RpcError{ErrorString: err.Error()}
}

// recovered turns a panic inside an RPC method into an RpcError: the controller keeps its plugin process.
func recovered(method string, out *types.RpcError) {
	if r := recover(); r != nil {
		*out = rpcError("%s: internal error in %s %s: %v", PluginName, method, Version, r)
	}
}

// InitPlugin is called once when the controller starts the plugin.
func (r *Router) InitPlugin() (out types.RpcError) {
	defer recovered("InitPlugin", &out)
	if r.NewClient == nil {
		return rpcError("%s: no AWS client factory", PluginName)
	}
	r.Log.Info("started", "plugin", PluginName, "version", Version)
	return types.RpcError{}
}

// Type names the router in the controller's logs and metrics.
func (r *Router) Type() string { return PluginName }

// UpdateHash has nothing to do: the Services the target groups are bound to follow the pod-template hashes.
func (r *Router) UpdateHash(_ *v1alpha1.Rollout, _, _ string, _ []v1alpha1.WeightDestination) types.RpcError {
	return types.RpcError{}
}

// SetHeaderRoute is refused: a header route is a rule of its own, at a higher priority, on a listener whose rules
// and priorities the infrastructure code owns; the controller's role may only change the weights of existing rules.
func (r *Router) SetHeaderRoute(rollout *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) types.RpcError {
	name := "?"
	if route != nil {
		name = route.Name
	}
	return rpcError("%s does not support setHeaderRoute (step %q of Rollout %s): it only weighs the target groups of "+
		"the service's existing listener rule; remove the setHeaderRoute steps and trafficRouting.managedRoutes",
		PluginName, name, nameOf(rollout))
}

// SetMirrorRoute is refused: an Application Load Balancer cannot mirror requests.
func (r *Router) SetMirrorRoute(rollout *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) types.RpcError {
	name := "?"
	if route != nil {
		name = route.Name
	}
	return rpcError("%s does not support setMirrorRoute (step %q of Rollout %s): an Application Load Balancer cannot "+
		"mirror traffic; remove the setMirrorRoute steps and trafficRouting.managedRoutes", PluginName, name, nameOf(rollout))
}

// RemoveManagedRoutes removes the header and mirror routes the router manages: it manages none (it refuses both),
// so the weights are left alone. The controller follows every RemoveManagedRoutes with the SetWeight it wants (0 on
// an abort or once the new version is stable, after checking that the stable pods can take the traffic); resetting
// the weights here would skip that check and, during a full promotion, flap the canary back to 0 on every reconcile.
func (r *Router) RemoveManagedRoutes(rollout *v1alpha1.Rollout) (out types.RpcError) {
	defer recovered("RemoveManagedRoutes", &out)
	if _, err := ConfigOf(rollout); err != nil {
		return rpcError("%s: %v", PluginName, err)
	}
	return types.RpcError{}
}

// Weights are the target-group weights of a rule's forward action.
type Weights struct{ Stable, Canary int32 }

func (w Weights) String() string { return fmt.Sprintf("stable %d, canary %d", w.Stable, w.Canary) }

// desired is what the controller's weight means on the ALB: the canary gets `weight` of `total`, the stable the rest.
func desired(rollout *v1alpha1.Rollout, weight int32, additional []v1alpha1.WeightDestination) (Config, Weights, error) {
	cfg, err := ConfigOf(rollout)
	if err != nil {
		return Config{}, Weights{}, err
	}
	if len(additional) > 0 {
		return Config{}, Weights{}, fmt.Errorf("Rollout %s: %d additional weighted destination(s) (experiments) given; the listener "+
			"rule forwards only to the stable and canary target groups", nameOf(rollout), len(additional))
	}
	total, err := MaxTrafficWeight(rollout)
	if err != nil {
		return Config{}, Weights{}, err
	}
	if weight < 0 || weight > total {
		return Config{}, Weights{}, fmt.Errorf("Rollout %s: desired canary weight %d is outside 0-%d", nameOf(rollout), weight, total)
	}
	return cfg, Weights{Stable: total - weight, Canary: weight}, nil
}

// SetWeight gives the canary target group `weight` of the requests the rule forwards, the stable one the rest.
// The rule's other actions, its conditions and the forward action's stickiness are kept; a rule already at those
// weights is not modified (the controller calls SetWeight on every reconcile).
func (r *Router) SetWeight(rollout *v1alpha1.Rollout, weight int32, additional []v1alpha1.WeightDestination) (out types.RpcError) {
	defer recovered("SetWeight", &out)
	cfg, want, err := desired(rollout, weight, additional)
	if err != nil {
		return rpcError("%s: %v", PluginName, err)
	}
	unlock := r.lock(cfg.ListenerRuleArn)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*CallTimeout)
	defer cancel()
	client, err := r.client(ctx, cfg.Region)
	if err != nil {
		return rpcError("%s: %v", PluginName, err)
	}
	rule, err := describe(ctx, client, cfg)
	if err != nil {
		return rpcError("%s: Rollout %s: %v", PluginName, nameOf(rollout), err)
	}
	actions, current, err := reweigh(rule, cfg, want)
	if err != nil {
		return rpcError("%s: Rollout %s: %v", PluginName, nameOf(rollout), err)
	}
	if current == want {
		return types.RpcError{}
	}
	callCtx, callCancel := context.WithTimeout(ctx, CallTimeout)
	defer callCancel()
	modified, err := client.ModifyRule(callCtx, &elbv2.ModifyRuleInput{RuleArn: aws.String(cfg.ListenerRuleArn), Actions: actions})
	if err != nil {
		return rpcError("%s: Rollout %s: ModifyRule %s (%s): %v", PluginName, nameOf(rollout), cfg.ListenerRuleArn, want, err)
	}
	if len(modified.Rules) == 1 {
		if got, err := weightsOf(modified.Rules[0], cfg); err != nil || got != want {
			return rpcError("%s: Rollout %s: ModifyRule %s answered %s, not %s", PluginName, nameOf(rollout), cfg.ListenerRuleArn, got, want)
		}
	}
	r.Log.Info("weights set", "rollout", nameOf(rollout), "rule", cfg.ListenerRuleArn, "from", current.String(), "to", want.String())
	return types.RpcError{}
}

// VerifyWeight reads the rule back and tells whether its weights are the ones `weight` means.
func (r *Router) VerifyWeight(rollout *v1alpha1.Rollout, weight int32, additional []v1alpha1.WeightDestination) (verified types.RpcVerified, out types.RpcError) {
	defer recovered("VerifyWeight", &out)
	cfg, want, err := desired(rollout, weight, additional)
	if err != nil {
		return types.NotVerified, rpcError("%s: %v", PluginName, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	client, err := r.client(ctx, cfg.Region)
	if err != nil {
		return types.NotVerified, rpcError("%s: %v", PluginName, err)
	}
	rule, err := describe(ctx, client, cfg)
	if err != nil {
		return types.NotVerified, rpcError("%s: Rollout %s: %v", PluginName, nameOf(rollout), err)
	}
	got, err := weightsOf(rule, cfg)
	if err != nil {
		return types.NotVerified, rpcError("%s: Rollout %s: %v", PluginName, nameOf(rollout), err)
	}
	if got != want {
		r.Log.Info("weights not yet verified", "rollout", nameOf(rollout), "rule", cfg.ListenerRuleArn, "have", got.String(), "want", want.String())
		return types.NotVerified, types.RpcError{}
	}
	return types.Verified, types.RpcError{}
}

func (r *Router) client(ctx context.Context, region string) (ELB, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[region]; ok {
		return c, nil
	}
	if r.NewClient == nil {
		return nil, errors.New("no AWS client factory (InitPlugin was not called)")
	}
	c, err := r.NewClient(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("AWS client for %s: %w", region, err)
	}
	if r.clients == nil {
		r.clients = map[string]ELB{}
	}
	r.clients[region] = c
	return c, nil
}

// lock serialises the read-modify-write of one rule: the controller may reconcile a Rollout from several workers.
func (r *Router) lock(rule string) func() {
	r.mu.Lock()
	if r.rules == nil {
		r.rules = map[string]*sync.Mutex{}
	}
	m, ok := r.rules[rule]
	if !ok {
		m = &sync.Mutex{}
		r.rules[rule] = m
	}
	r.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func describe(ctx context.Context, client ELB, cfg Config) (elbtypes.Rule, error) {
	out, err := client.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{cfg.ListenerRuleArn}})
	var missing *elbtypes.RuleNotFoundException
	if errors.As(err, &missing) {
		return elbtypes.Rule{}, fmt.Errorf("listener rule %s does not exist (deleted outside the infrastructure code? "+
			"`pulumi up` recreates it)", cfg.ListenerRuleArn)
	}
	if err != nil {
		return elbtypes.Rule{}, fmt.Errorf("DescribeRules %s: %w", cfg.ListenerRuleArn, err)
	}
	for _, rule := range out.Rules {
		if aws.ToString(rule.RuleArn) == cfg.ListenerRuleArn {
			return rule, nil
		}
	}
	return elbtypes.Rule{}, fmt.Errorf("listener rule %s does not exist (DescribeRules returned %d other rule(s))", cfg.ListenerRuleArn, len(out.Rules))
}

// forwardAction is the index of the rule's one forward action whose target groups are exactly the stable and the
// canary ones: the plugin changes no rule that forwards anywhere else.
func forwardAction(rule elbtypes.Rule, cfg Config) (int, error) {
	found := -1
	for i, action := range rule.Actions {
		if action.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if found >= 0 {
			return -1, fmt.Errorf("listener rule %s has more than one forward action", cfg.ListenerRuleArn)
		}
		found = i
	}
	if found < 0 {
		return -1, fmt.Errorf("listener rule %s has no forward action", cfg.ListenerRuleArn)
	}
	var arns []string
	action := rule.Actions[found]
	if action.ForwardConfig != nil {
		for _, tg := range action.ForwardConfig.TargetGroups {
			arns = append(arns, aws.ToString(tg.TargetGroupArn))
		}
	} else if action.TargetGroupArn != nil {
		arns = append(arns, aws.ToString(action.TargetGroupArn))
	}
	both := len(arns) == 2 && arns[0] != arns[1] &&
		(arns[0] == cfg.StableTargetGroupArn || arns[0] == cfg.CanaryTargetGroupArn) &&
		(arns[1] == cfg.StableTargetGroupArn || arns[1] == cfg.CanaryTargetGroupArn)
	if !both {
		return -1, fmt.Errorf("listener rule %s forwards to %v, not to exactly the stable (%s) and canary (%s) target groups; "+
			"refusing to change it", cfg.ListenerRuleArn, arns, cfg.StableTargetGroupArn, cfg.CanaryTargetGroupArn)
	}
	return found, nil
}

func weightsOf(rule elbtypes.Rule, cfg Config) (Weights, error) {
	i, err := forwardAction(rule, cfg)
	if err != nil {
		return Weights{}, err
	}
	var w Weights
	for _, tg := range rule.Actions[i].ForwardConfig.TargetGroups {
		// A target group without a weight has weight 1 (the API's default).
		weight := int32(1)
		if tg.Weight != nil {
			weight = *tg.Weight
		}
		if aws.ToString(tg.TargetGroupArn) == cfg.StableTargetGroupArn {
			w.Stable = weight
		} else {
			w.Canary = weight
		}
	}
	return w, nil
}

// reweigh returns the rule's actions with the forward action's weights replaced, and the weights it had.
func reweigh(rule elbtypes.Rule, cfg Config, want Weights) ([]elbtypes.Action, Weights, error) {
	current, err := weightsOf(rule, cfg)
	if err != nil {
		return nil, Weights{}, err
	}
	i, _ := forwardAction(rule, cfg)
	actions := make([]elbtypes.Action, len(rule.Actions))
	copy(actions, rule.Actions)
	for j := range actions {
		// DescribeRules never returns an OIDC client secret: ModifyRule must be told to keep the existing one.
		if oidc := actions[j].AuthenticateOidcConfig; oidc != nil && oidc.ClientSecret == nil {
			kept := *oidc
			kept.UseExistingClientSecret = aws.Bool(true)
			actions[j].AuthenticateOidcConfig = &kept
		}
	}
	forward := actions[i]
	groups := make([]elbtypes.TargetGroupTuple, 0, 2)
	for _, tg := range forward.ForwardConfig.TargetGroups {
		weight := want.Canary
		if aws.ToString(tg.TargetGroupArn) == cfg.StableTargetGroupArn {
			weight = want.Stable
		}
		groups = append(groups, elbtypes.TargetGroupTuple{TargetGroupArn: tg.TargetGroupArn, Weight: aws.Int32(weight)})
	}
	forward.ForwardConfig = &elbtypes.ForwardActionConfig{
		TargetGroups:                groups,
		TargetGroupStickinessConfig: forward.ForwardConfig.TargetGroupStickinessConfig,
	}
	// With a ForwardConfig of two target groups the action names none on its own.
	forward.TargetGroupArn = nil
	actions[i] = forward
	return actions, current, nil
}

func nameOf(rollout *v1alpha1.Rollout) string {
	if rollout == nil {
		return "?"
	}
	return rolloutName(rollout)
}
