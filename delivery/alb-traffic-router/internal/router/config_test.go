package router

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ARNs as AWS writes them (Elastic Load Balancing's ARN formats in the Service Authorization Reference).
const (
	ruleARN   = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/golive-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	stableARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/golive-trading-api-tg/73e2d6bc24d8a067"
	canaryARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/golive-trading-api-canary-tg/9a6f1e2b3c4d5e6f"
)

func validConfig() map[string]any {
	return map[string]any{"listenerRuleArn": ruleARN, "stableTargetGroupArn": stableARN, "canaryTargetGroupArn": canaryARN, "region": "eu-west-1"}
}

func encode(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func with(changes map[string]any, drop ...string) map[string]any {
	fields := validConfig()
	for _, key := range drop {
		delete(fields, key)
	}
	for key, value := range changes {
		fields[key] = value
	}
	return fields
}

func TestParseConfigAcceptsTheFourFields(t *testing.T) {
	cfg, err := ParseConfig(encode(t, validConfig()))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ListenerRuleArn: ruleARN, StableTargetGroupArn: stableARN, CanaryTargetGroupArn: canaryARN, Region: "eu-west-1"}
	if cfg != want {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
	china := strings.NewReplacer("arn:aws:", "arn:aws-cn:", "eu-west-1", "cn-north-1")
	if _, err := ParseConfig([]byte(china.Replace(string(encode(t, validConfig()))))); err != nil {
		t.Fatalf("a China-partition config is valid: %v", err)
	}
}

func TestParseConfigRejectsWithAMessage(t *testing.T) {
	otherAccount := strings.Replace(canaryARN, "123456789012", "210987654321", 1)
	cases := []struct {
		name string
		raw  string
		want []string // every fragment must be in the one error
	}{
		{"empty", "", []string{"empty"}},
		{"null", "null", []string{"empty"}},
		{"not an object", `["a"]`, []string{"not a JSON object"}},
		{"broken JSON", `{"region": "eu-west-1"`, []string{"not a JSON object"}},
		{"trailing data", string(encode(t, validConfig())) + ` {}`, []string{"data after its JSON object"}},
		{"missing rule", string(encode(t, with(nil, "listenerRuleArn"))), []string{"listenerRuleArn is missing"}},
		{"missing everything", `{}`, []string{"listenerRuleArn is missing", "stableTargetGroupArn is missing",
			"canaryTargetGroupArn is missing", "region is missing"}},
		{"blank canary", string(encode(t, with(map[string]any{"canaryTargetGroupArn": "  "}))), []string{"canaryTargetGroupArn is missing"}},
		{"unknown field", string(encode(t, with(map[string]any{"weight": "10"}))), []string{`unknown field "weight"`}},
		{"field name in another case", string(encode(t, with(map[string]any{"ListenerRuleArn": ruleARN}, "listenerRuleArn"))),
			[]string{`unknown field "ListenerRuleArn"`}},
		{"number", string(encode(t, with(map[string]any{"region": 5}))), []string{"region must be a string, not 5"}},
		{"null value", string(encode(t, with(map[string]any{"stableTargetGroupArn": nil}))), []string{"stableTargetGroupArn must be a string"}},
		{"not an ARN", string(encode(t, with(map[string]any{"listenerRuleArn": "golive-trading-api-rule"}))),
			[]string{`listenerRuleArn "golive-trading-api-rule" is not an Elastic Load Balancing ARN`}},
		{"a target group as the rule", string(encode(t, with(map[string]any{"listenerRuleArn": stableARN}))),
			[]string{"is not the ARN of an Application Load Balancer listener rule"}},
		{"a listener, not a rule", string(encode(t, with(map[string]any{"listenerRuleArn": strings.Replace(
			strings.TrimSuffix(ruleARN, "/9683b2d02a6cabee"), "listener-rule/", "listener/", 1)}))),
			[]string{"is not the ARN of an Application Load Balancer listener rule"}},
		{"a network load balancer rule", string(encode(t, with(map[string]any{"listenerRuleArn": strings.Replace(ruleARN, "/app/", "/net/", 1)}))),
			[]string{"listener rule"}},
		{"a rule as the canary", string(encode(t, with(map[string]any{"canaryTargetGroupArn": ruleARN}))),
			[]string{"canaryTargetGroupArn", "is not the ARN of a target group"}},
		{"another service's ARN", string(encode(t, with(map[string]any{"stableTargetGroupArn": "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"}))),
			[]string{"stableTargetGroupArn", "not an Elastic Load Balancing ARN"}},
		{"bad region", string(encode(t, with(map[string]any{"region": "Ireland"}))), []string{`region "Ireland" is not an AWS region`}},
		{"ARN in another region", string(encode(t, with(map[string]any{"region": "us-east-1"}))),
			[]string{"listenerRuleArn", "is in region eu-west-1, not in the configured region us-east-1"}},
		{"another account", string(encode(t, with(map[string]any{"canaryTargetGroupArn": otherAccount}))), []string{"one account and partition"}},
		{"stable is canary", string(encode(t, with(map[string]any{"canaryTargetGroupArn": stableARN}))), []string{"are the same target group"}},
		{"several problems at once", string(encode(t, with(map[string]any{"region": "Ireland"}, "stableTargetGroupArn"))),
			[]string{"stableTargetGroupArn is missing", `region "Ireland"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.raw))
			if err == nil {
				t.Fatalf("accepted %q as %+v", tc.raw, cfg)
			}
			if cfg != (Config{}) {
				t.Errorf("a rejected config returns the zero Config, got %+v", cfg)
			}
			for _, fragment := range tc.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q lacks %q", err, fragment)
				}
			}
		})
	}
}

func rollout(plugins map[string]json.RawMessage) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "trading-api", Namespace: "trading-api"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			StableService: "trading-api", CanaryService: "trading-api-canary",
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: plugins},
		}}},
	}
}

func TestConfigOfReadsThePluginsEntry(t *testing.T) {
	ro := rollout(map[string]json.RawMessage{PluginName: encode(t, validConfig())})
	if cfg, err := ConfigOf(ro); err != nil || cfg.ListenerRuleArn != ruleARN {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	other := rollout(map[string]json.RawMessage{"argoproj-labs/gatewayAPI": encode(t, validConfig())})
	if _, err := ConfigOf(other); err == nil || !strings.Contains(err.Error(), "no trafficRouting.plugins."+PluginName) {
		t.Fatalf("a Rollout without this plugin's entry: %v", err)
	}
	blueGreen := &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "x"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{BlueGreen: &v1alpha1.BlueGreenStrategy{}}}}
	if _, err := ConfigOf(blueGreen); err == nil || !strings.Contains(err.Error(), "no canary trafficRouting") {
		t.Fatalf("a blue-green Rollout: %v", err)
	}
	if _, err := ConfigOf(nil); err == nil {
		t.Fatal("a nil Rollout has no config")
	}
	broken := rollout(map[string]json.RawMessage{PluginName: json.RawMessage(`{"region": "eu-west-1"}`)})
	if _, err := ConfigOf(broken); err == nil || !strings.Contains(err.Error(), "Rollout trading-api/trading-api: plugin configuration") {
		t.Fatalf("the error names the Rollout: %v", err)
	}
}

func TestMaxTrafficWeightMustFitAnALBWeight(t *testing.T) {
	ro := rollout(nil)
	if total, err := MaxTrafficWeight(ro); err != nil || total != 100 {
		t.Fatalf("default: %d, %v", total, err)
	}
	for _, bad := range []int32{0, -5, 1000} {
		ro.Spec.Strategy.Canary.TrafficRouting.MaxTrafficWeight = &bad
		if _, err := MaxTrafficWeight(ro); err == nil || !strings.Contains(err.Error(), "outside 1-999") {
			t.Errorf("maxTrafficWeight %d: %v", bad, err)
		}
	}
}

// FuzzParseConfig: whatever the bytes, ParseConfig returns an error or a configuration that validates, never panics,
// and an accepted configuration reads back the same after encoding. The seeds run in every plain `go test`.
func FuzzParseConfig(f *testing.F) {
	f.Add(encode(f, validConfig()))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"listenerRuleArn": 1}`))
	f.Add([]byte(`{"listenerRuleArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/a/1/2/3", "region": "eu-west-1"}`))
	f.Add([]byte(`{"region": "eu-west-1", "region": "us-east-1"}`))
	f.Add([]byte("{\"region\": \"\xff\"}"))
	f.Add(encode(f, with(map[string]any{"canaryTargetGroupArn": stableARN})))
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := ParseConfig(raw)
		if err != nil {
			if cfg != (Config{}) {
				t.Fatalf("rejected input returned %+v", cfg)
			}
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted an invalid config %+v: %v", cfg, err)
		}
		again, err := ParseConfig(encode(t, map[string]any{"listenerRuleArn": cfg.ListenerRuleArn,
			"stableTargetGroupArn": cfg.StableTargetGroupArn, "canaryTargetGroupArn": cfg.CanaryTargetGroupArn, "region": cfg.Region}))
		if err != nil || again != cfg {
			t.Fatalf("round trip of %+v gave %+v, %v", cfg, again, err)
		}
	})
}
