package router

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"golive.dev/delivery/albtrafficrouter/internal/motoserver"
)

var (
	moto     *motoserver.Server
	motoErr  error
	motoOnce sync.Once
	fixtures int // names of the fixtures: the load balancers and target groups of one server need distinct names
)

// TestMain stops the moto server the tests started (once, at the first test that needs it).
func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// onMoto is a Router whose ELB clients are the moto server's, with a fixture of its own.
func onMoto(t *testing.T) (*Router, motoserver.Fixture) {
	t.Helper()
	motoOnce.Do(func() { moto, motoErr = motoserver.Start() })
	switch {
	case motoErr != nil && motoserver.Required():
		t.Fatal(motoErr)
	case motoErr != nil:
		t.Skip(motoErr)
	}
	fixtures++
	fixture, err := moto.NewFixture(context.Background(), fmt.Sprintf("svc%d", fixtures))
	if err != nil {
		t.Fatal(err)
	}
	r := New(func(_ context.Context, region string) (ELB, error) {
		if region != motoserver.Region {
			return nil, fmt.Errorf("region %s", region)
		}
		return moto.Client(), nil
	}, nil)
	mustOK(t, r.InitPlugin())
	return r, fixture
}

func motoRollout(t *testing.T, f motoserver.Fixture) *v1alpha1.Rollout {
	cfg := map[string]any{"listenerRuleArn": f.RuleArn, "stableTargetGroupArn": f.StableArn,
		"canaryTargetGroupArn": f.CanaryArn, "region": motoserver.Region}
	return rollout(map[string]json.RawMessage{PluginName: encode(t, cfg)})
}

func assertWeights(t *testing.T, f motoserver.Fixture, stable, canary int32) {
	t.Helper()
	gotStable, gotCanary, sticky, err := moto.Weights(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if gotStable != stable || gotCanary != canary {
		t.Fatalf("rule weights stable %d canary %d, want %d/%d", gotStable, gotCanary, stable, canary)
	}
	if !aws.ToBool(sticky.Enabled) || aws.ToInt32(sticky.DurationSeconds) != 300 {
		t.Fatalf("stickiness lost: %+v", sticky)
	}
}

func TestOnMotoTheCanarySteps(t *testing.T) {
	r, f := onMoto(t)
	ro := motoRollout(t, f)
	// The prod steps (10, 50, 100), then the controller's SetWeight(0) once the new version is stable.
	for _, step := range []struct{ weight, stable, canary int32 }{{10, 90, 10}, {50, 50, 50}, {100, 0, 100}, {0, 100, 0}} {
		mustOK(t, r.SetWeight(ro, step.weight, nil))
		assertWeights(t, f, step.stable, step.canary)
		verified, err := r.VerifyWeight(ro, step.weight, nil)
		mustOK(t, err)
		if verified != types.Verified {
			t.Fatalf("setWeight %d: VerifyWeight disagrees", step.weight)
		}
		if other := (step.weight + 10) % 100; other != step.weight {
			if v, err := r.VerifyWeight(ro, other, nil); err.HasError() || v != types.NotVerified {
				t.Fatalf("weight %d verified at %d: %v %v", other, step.weight, v, err)
			}
		}
	}
	out, err := moto.Client().DescribeRules(context.Background(), &elbv2.DescribeRulesInput{RuleArns: []string{f.RuleArn}})
	if err != nil {
		t.Fatal(err)
	}
	rule := out.Rules[0]
	if aws.ToString(rule.Priority) != "100" || len(rule.Conditions) != 1 || rule.Conditions[0].HostHeaderConfig.Values[0] == "" {
		t.Fatalf("the rule's priority and conditions are kept: %+v", rule)
	}
}

func TestOnMotoAnAbortRestoresAllTrafficToStable(t *testing.T) {
	r, f := onMoto(t)
	ro := motoRollout(t, f)
	mustOK(t, r.SetWeight(ro, 50, nil))
	// What the controller calls on an abort: RemoveManagedRoutes, then SetWeight(0).
	mustOK(t, r.RemoveManagedRoutes(ro))
	assertWeights(t, f, 50, 50)
	mustOK(t, r.SetWeight(ro, 0, nil))
	assertWeights(t, f, 100, 0)
	verified, err := r.VerifyWeight(ro, 0, nil)
	mustOK(t, err)
	if verified != types.Verified {
		t.Fatal("100/0 not verified")
	}
}

func TestOnMotoARuleDeletedUnderneathIsAnError(t *testing.T) {
	r, f := onMoto(t)
	ro := motoRollout(t, f)
	mustOK(t, r.SetWeight(ro, 10, nil))
	if _, err := moto.Client().DeleteRule(context.Background(), &elbv2.DeleteRuleInput{RuleArn: aws.String(f.RuleArn)}); err != nil {
		t.Fatal(err)
	}
	mustFail(t, r.SetWeight(ro, 50, nil), "does not exist", f.RuleArn)
	verified, err := r.VerifyWeight(ro, 50, nil)
	mustFail(t, err, "does not exist")
	if verified != types.NotVerified {
		t.Fatal("a deleted rule is not verified")
	}
	mustOK(t, r.RemoveManagedRoutes(ro))
}

func TestOnMotoATargetGroupThatIsNotTheRulesIsRefused(t *testing.T) {
	r, f := onMoto(t)
	_, other := onMoto(t)
	swapped := f
	swapped.CanaryArn = other.CanaryArn
	mustFail(t, r.SetWeight(motoRollout(t, swapped), 10, nil), "not to exactly the stable")
	assertWeights(t, f, 100, 0)
}
