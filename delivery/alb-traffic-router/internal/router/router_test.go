package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// fakeELB keeps rules by ARN and answers DescribeRules and ModifyRule as the API documents: ModifyRule replaces the
// actions it is given and keeps the conditions it is not given; an unknown rule is RuleNotFound.
type fakeELB struct {
	mu          sync.Mutex
	rules       map[string]elbtypes.Rule
	modified    []*elbv2.ModifyRuleInput
	describes   int
	describeErr error
	modifyErr   error
	panicOn     string
}

func (f *fakeELB) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.panicOn == "DescribeRules" {
		panic("boom")
	}
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	out := &elbv2.DescribeRulesOutput{}
	for _, arn := range in.RuleArns {
		rule, ok := f.rules[arn]
		if !ok {
			return nil, &elbtypes.RuleNotFoundException{Message: aws.String("One or more rules not found")}
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func (f *fakeELB) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modified = append(f.modified, in)
	if f.modifyErr != nil {
		return nil, f.modifyErr
	}
	rule, ok := f.rules[aws.ToString(in.RuleArn)]
	if !ok {
		return nil, &elbtypes.RuleNotFoundException{}
	}
	if in.Actions != nil {
		rule.Actions = in.Actions
	}
	if in.Conditions != nil {
		rule.Conditions = in.Conditions
	}
	f.rules[aws.ToString(in.RuleArn)] = rule
	return &elbv2.ModifyRuleOutput{Rules: []elbtypes.Rule{rule}}, nil
}

func (f *fakeELB) weights(t *testing.T) (int32, int32) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var stable, canary int32 = -1, -1
	for _, tg := range f.rules[ruleARN].Actions[len(f.rules[ruleARN].Actions)-1].ForwardConfig.TargetGroups {
		switch aws.ToString(tg.TargetGroupArn) {
		case stableARN:
			stable = aws.ToInt32(tg.Weight)
		case canaryARN:
			canary = aws.ToInt32(tg.Weight)
		}
	}
	return stable, canary
}

// The canary rule as the edge declares it: host condition, forward to stable 100 and canary 0.
func canaryRule() elbtypes.Rule {
	return elbtypes.Rule{
		RuleArn:  aws.String(ruleARN),
		Priority: aws.String("100"),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"),
			HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{"trading.golive.example.com"}}}},
		Actions: []elbtypes.Action{{
			Type:  elbtypes.ActionTypeEnumForward,
			Order: aws.Int32(1),
			ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{
					{TargetGroupArn: aws.String(stableARN), Weight: aws.Int32(100)},
					{TargetGroupArn: aws.String(canaryARN), Weight: aws.Int32(0)},
				},
				TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(300)},
			},
		}},
	}
}

func newRouter(t *testing.T, fake *fakeELB) *Router {
	t.Helper()
	var regions []string
	r := New(func(_ context.Context, region string) (ELB, error) {
		regions = append(regions, region)
		return fake, nil
	}, nil)
	if err := r.InitPlugin(); err.HasError() {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if len(regions) > 1 {
			t.Errorf("one client per region, built %v", regions)
		}
	})
	return r
}

func configured(t testing.TB) *v1alpha1.Rollout {
	return rollout(map[string]json.RawMessage{PluginName: encode(t, validConfig())})
}

func mustOK(t *testing.T, err types.RpcError) {
	t.Helper()
	if err.HasError() {
		t.Fatal(err.ErrorString)
	}
}

func mustFail(t *testing.T, err types.RpcError, fragments ...string) {
	t.Helper()
	if !err.HasError() {
		t.Fatal("expected an RpcError")
	}
	for _, fragment := range fragments {
		if !strings.Contains(err.ErrorString, fragment) {
			t.Errorf("error %q lacks %q", err.ErrorString, fragment)
		}
	}
}

func TestSetWeightMovesTheForwardWeightsStepByStep(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	ro := configured(t)
	for _, step := range []struct{ weight, stable, canary int32 }{{10, 90, 10}, {50, 50, 50}, {100, 0, 100}, {0, 100, 0}} {
		mustOK(t, r.SetWeight(ro, step.weight, nil))
		if stable, canary := fake.weights(t); stable != step.stable || canary != step.canary {
			t.Fatalf("setWeight %d: stable %d canary %d, want %d/%d", step.weight, stable, canary, step.stable, step.canary)
		}
		verified, err := r.VerifyWeight(ro, step.weight, nil)
		mustOK(t, err)
		if verified != types.Verified {
			t.Fatalf("setWeight %d not verified", step.weight)
		}
	}
	last := fake.modified[len(fake.modified)-1]
	if last.Conditions != nil || last.Transforms != nil || last.ResetTransforms != nil {
		t.Errorf("ModifyRule must leave conditions and transforms alone: %+v", last)
	}
	forward := last.Actions[0]
	if forward.TargetGroupArn != nil || aws.ToInt32(forward.Order) != 1 {
		t.Errorf("forward action: %+v", forward)
	}
	sticky := forward.ForwardConfig.TargetGroupStickinessConfig
	if !aws.ToBool(sticky.Enabled) || aws.ToInt32(sticky.DurationSeconds) != 300 {
		t.Errorf("stickiness not kept: %+v", sticky)
	}
	if got := fake.rules[ruleARN].Conditions[0].HostHeaderConfig.Values; len(got) != 1 || got[0] != "trading.golive.example.com" {
		t.Errorf("conditions changed: %v", got)
	}
}

func TestSetWeightAtTheCurrentWeightsChangesNothing(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	mustOK(t, r.SetWeight(configured(t), 0, nil))
	mustOK(t, r.SetWeight(configured(t), 0, nil))
	if len(fake.modified) != 0 {
		t.Fatalf("the rule is already at 100/0: %d ModifyRule calls", len(fake.modified))
	}
	mustOK(t, r.SetWeight(configured(t), 10, nil))
	mustOK(t, r.SetWeight(configured(t), 10, nil))
	if len(fake.modified) != 1 {
		t.Fatalf("one change, %d ModifyRule calls", len(fake.modified))
	}
}

func TestVerifyWeightSaysNotYetWhenTheRuleDiffers(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	verified, err := r.VerifyWeight(configured(t), 10, nil)
	mustOK(t, err)
	if verified != types.NotVerified {
		t.Fatalf("100/0 is not weight 10: %v", verified)
	}
	if len(fake.modified) != 0 {
		t.Fatal("VerifyWeight only reads")
	}
}

func TestAWeightWithoutAValueIsTheAPIsDefaultOfOne(t *testing.T) {
	rule := canaryRule()
	rule.Actions[0].ForwardConfig.TargetGroups[1].Weight = nil
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: rule}}
	verified, err := newRouter(t, fake).VerifyWeight(configured(t), 0, nil)
	mustOK(t, err)
	if verified != types.NotVerified {
		t.Fatal("an unweighted canary target group has weight 1, not 0")
	}
}

func TestMaxTrafficWeightScalesTheWeights(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	ro := configured(t)
	total := int32(200)
	ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = &total
	mustOK(t, r.SetWeight(ro, 30, nil))
	if stable, canary := fake.weights(t); stable != 170 || canary != 30 {
		t.Fatalf("stable %d canary %d", stable, canary)
	}
	mustFail(t, r.SetWeight(ro, 201, nil), "desired canary weight 201 is outside 0-200")
}

func TestRemoveManagedRoutesLeavesTheWeightsToSetWeight(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	ro := configured(t)
	mustOK(t, r.SetWeight(ro, 50, nil))
	// The controller on an abort: RemoveManagedRoutes, then SetWeight(0) once the stable pods can take everything.
	mustOK(t, r.RemoveManagedRoutes(ro))
	if stable, canary := fake.weights(t); stable != 50 || canary != 50 {
		t.Fatalf("RemoveManagedRoutes changed the weights: %d/%d", stable, canary)
	}
	if fake.describes != 1 || len(fake.modified) != 1 {
		t.Fatalf("RemoveManagedRoutes calls no AWS API: %d describes, %d modifies", fake.describes, len(fake.modified))
	}
	mustOK(t, r.SetWeight(ro, 0, nil))
	if stable, canary := fake.weights(t); stable != 100 || canary != 0 {
		t.Fatalf("after the abort's SetWeight(0): %d/%d", stable, canary)
	}
	broken := rollout(map[string]json.RawMessage{PluginName: json.RawMessage(`{}`)})
	mustFail(t, r.RemoveManagedRoutes(broken), "listenerRuleArn is missing")
}

func TestARuleDeletedUnderneathIsAnError(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{}}
	r := newRouter(t, fake)
	mustFail(t, r.SetWeight(configured(t), 10, nil), "does not exist", ruleARN, "trading-api/trading-api")
	verified, err := r.VerifyWeight(configured(t), 10, nil)
	mustFail(t, err, "does not exist")
	if verified != types.NotVerified {
		t.Fatal("a missing rule is not verified")
	}
}

func TestARuleForwardingElsewhereIsLeftAlone(t *testing.T) {
	other := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/someone-else/0123456789abcdef"
	cases := map[string]func(*elbtypes.Rule){
		"a third target group": func(r *elbtypes.Rule) {
			r.Actions[0].ForwardConfig.TargetGroups = append(r.Actions[0].ForwardConfig.TargetGroups,
				elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(other), Weight: aws.Int32(1)})
		},
		"another canary": func(r *elbtypes.Rule) { r.Actions[0].ForwardConfig.TargetGroups[1].TargetGroupArn = aws.String(other) },
		"the stable one only": func(r *elbtypes.Rule) {
			r.Actions[0] = elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(stableARN)}
		},
		"the stable twice": func(r *elbtypes.Rule) {
			r.Actions[0].ForwardConfig.TargetGroups[1].TargetGroupArn = aws.String(stableARN)
		},
		"no forward": func(r *elbtypes.Rule) {
			r.Actions[0] = elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse,
				FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("503")}}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			rule := canaryRule()
			change(&rule)
			fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: rule}}
			mustFail(t, newRouter(t, fake).SetWeight(configured(t), 10, nil), ruleARN)
			if len(fake.modified) != 0 {
				t.Fatal("a rule that is not the canary's is never modified")
			}
		})
	}
}

func TestOtherActionsAreKeptAndAnOIDCSecretIsNotLost(t *testing.T) {
	rule := canaryRule()
	auth := elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1),
		AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{ClientId: aws.String("client"), Issuer: aws.String("https://idp")}}
	rule.Actions[0].Order = aws.Int32(2)
	rule.Actions = []elbtypes.Action{auth, rule.Actions[0]}
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: rule}}
	mustOK(t, newRouter(t, fake).SetWeight(configured(t), 10, nil))
	actions := fake.modified[0].Actions
	if len(actions) != 2 || actions[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || aws.ToInt32(actions[1].Order) != 2 {
		t.Fatalf("actions: %+v", actions)
	}
	if !aws.ToBool(actions[0].AuthenticateOidcConfig.UseExistingClientSecret) || aws.ToString(actions[0].AuthenticateOidcConfig.ClientId) != "client" {
		t.Fatalf("OIDC action: %+v", actions[0].AuthenticateOidcConfig)
	}
	if rule.Actions[0].AuthenticateOidcConfig.UseExistingClientSecret != nil {
		t.Fatal("the described rule itself is not changed")
	}
}

func TestWeightsOutOfRangeAndUnsupportedRequestsAreRpcErrors(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	ro := configured(t)
	mustFail(t, r.SetWeight(ro, -1, nil), "desired canary weight -1 is outside 0-100")
	mustFail(t, r.SetWeight(ro, 101, nil), "outside 0-100")
	_, err := r.VerifyWeight(ro, 150, nil)
	mustFail(t, err, "outside 0-100")
	mustFail(t, r.SetWeight(ro, 10, []v1alpha1.WeightDestination{{ServiceName: "exp", Weight: 5}}), "additional weighted destination")
	mustFail(t, r.SetHeaderRoute(ro, &v1alpha1.SetHeaderRoute{Name: "canary-header"}), "does not support setHeaderRoute", `"canary-header"`)
	mustFail(t, r.SetHeaderRoute(nil, nil), "does not support setHeaderRoute")
	mustFail(t, r.SetMirrorRoute(ro, &v1alpha1.SetMirrorRoute{Name: "mirror"}), "cannot mirror traffic")
	mustFail(t, r.SetWeight(nil, 10, nil), "no Rollout given")
	blueGreen := &v1alpha1.Rollout{}
	mustFail(t, r.SetWeight(blueGreen, 10, nil), "no canary trafficRouting")
	mustOK(t, r.UpdateHash(ro, "canary", "stable", nil))
	if len(fake.modified) != 0 || fake.describes != 0 {
		t.Fatalf("nothing reaches AWS: %d modifies, %d describes", len(fake.modified), fake.describes)
	}
	if r.Type() != PluginName {
		t.Fatal(r.Type())
	}
}

func TestAWSErrorsArePassedOnWithTheirContext(t *testing.T) {
	throttled := errors.New("api error Throttling: Rate exceeded")
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}, modifyErr: throttled}
	r := newRouter(t, fake)
	mustFail(t, r.SetWeight(configured(t), 10, nil), "ModifyRule", "stable 90, canary 10", "Rate exceeded")
	fake.describeErr = errors.New("AccessDenied: not authorized to perform elasticloadbalancing:DescribeRules")
	_, err := r.VerifyWeight(configured(t), 10, nil)
	mustFail(t, err, "DescribeRules", "AccessDenied")
	failing := New(func(context.Context, string) (ELB, error) { return nil, errors.New("no credentials") }, nil)
	mustFail(t, failing.SetWeight(configured(t), 10, nil), "AWS client for eu-west-1", "no credentials")
	mustFail(t, New(nil, nil).InitPlugin(), "no AWS client factory")
}

func TestAPanicBecomesAnRpcError(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}, panicOn: "DescribeRules"}
	r := newRouter(t, fake)
	mustFail(t, r.SetWeight(configured(t), 10, nil), "internal error in SetWeight", "boom")
	_, err := r.VerifyWeight(configured(t), 10, nil)
	mustFail(t, err, "internal error in VerifyWeight")
}

func TestConcurrentReconcilesOfTheSameRuleEndAtTheLastWeight(t *testing.T) {
	fake := &fakeELB{rules: map[string]elbtypes.Rule{ruleARN: canaryRule()}}
	r := newRouter(t, fake)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.SetWeight(configured(t), int32(10*(i%2+1)), nil); err.HasError() {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mustOK(t, r.SetWeight(configured(t), 50, nil))
	if stable, canary := fake.weights(t); stable+canary != 100 || canary != 50 {
		t.Fatalf("%d/%d", stable, canary)
	}
}

func ExampleWeights() {
	fmt.Println(Weights{Stable: 90, Canary: 10})
	// Output: stable 90, canary 10
}
