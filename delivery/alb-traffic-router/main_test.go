package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"golive.dev/delivery/albtrafficrouter/internal/motoserver"
)

// The controller's side of the handshake and plugin map, as Argo Rollouts v1.9 writes them in
// rollout/trafficrouting/plugin/client/client.go: written out here so that a plugin answering another cookie or
// under another name fails this test.
var controllerHandshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "trafficrouter",
}

const dispensed = "RpcTrafficRouterPlugin"

var (
	binary string // the plugin as the controller runs it: $PLUGIN_BINARY (the release build) or built here
	moto   *motoserver.Server
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binary = os.Getenv("PLUGIN_BINARY")
	if binary == "" {
		dir, err := os.MkdirTemp("", "alb-traffic-router")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "alb-traffic-router")
		build := exec.Command("go", "build", "-trimpath", "-o", binary, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
	}
	server, err := motoserver.Start()
	switch {
	case err == nil:
		moto = server
		defer moto.Stop()
	case motoserver.Required():
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// syncBuffer collects the controller-side log, which go-plugin writes from its own goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// load starts the binary and dispenses the router the way the controller does (GetTrafficPlugin).
func load(t *testing.T) (rpc.TrafficRouterPlugin, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: controllerHandshake,
		Plugins:         map[string]goplugin.Plugin{dispensed: &rpc.RpcTrafficRouterPlugin{}},
		Cmd:             exec.Command(binary),
		Managed:         true,
		Logger:          hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
	})
	t.Cleanup(client.Kill)
	protocol, err := client.Client()
	if err != nil {
		t.Fatalf("start the plugin: %v\n%s", err, logs)
	}
	raw, err := protocol.Dispense(dispensed)
	if err != nil {
		t.Fatal(err)
	}
	plugin, ok := raw.(rpc.TrafficRouterPlugin)
	if !ok {
		t.Fatalf("dispensed %T", raw)
	}
	if resp := plugin.InitPlugin(); resp.HasError() {
		t.Fatal(resp)
	}
	if err := protocol.Ping(); err != nil {
		t.Fatal(err)
	}
	return plugin, logs
}

func rolloutFor(t *testing.T, f motoserver.Fixture) *v1alpha1.Rollout {
	cfg, err := json.Marshal(map[string]string{"listenerRuleArn": f.RuleArn, "stableTargetGroupArn": f.StableArn,
		"canaryTargetGroupArn": f.CanaryArn, "region": motoserver.Region})
	if err != nil {
		t.Fatal(err)
	}
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "trading-api", Namespace: "trading-api"},
		Spec: v1alpha1.RolloutSpec{Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
			TrafficRouting: &v1alpha1.RolloutTrafficRouting{Plugins: map[string]json.RawMessage{"golive/alb-listener-rule": cfg}},
		}}},
	}
}

func TestTheControllerLoadsThePluginAndMovesTheWeightsOverRPC(t *testing.T) {
	if moto == nil {
		t.Skip(motoserver.ErrNotInstalled)
	}
	// The plugin process inherits the controller's environment: here moto's endpoint and throw-away credentials,
	// in the cluster the IRSA web identity.
	for key, value := range map[string]string{
		"AWS_ENDPOINT_URL": moto.Endpoint, "AWS_ACCESS_KEY_ID": motoserver.AccessKey, "AWS_SECRET_ACCESS_KEY": motoserver.SecretKey,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_SESSION_TOKEN": "",
	} {
		t.Setenv(key, value)
	}
	fixture, err := moto.NewFixture(context.Background(), "rpc")
	if err != nil {
		t.Fatal(err)
	}
	plugin, logs := load(t)
	if got := plugin.Type(); got != "golive/alb-listener-rule" {
		t.Fatalf("Type() = %q", got)
	}
	ro := rolloutFor(t, fixture)
	for _, step := range []struct{ weight, stable, canary int32 }{{10, 90, 10}, {50, 50, 50}, {100, 0, 100}, {0, 100, 0}} {
		if resp := plugin.SetWeight(ro, step.weight, nil); resp.HasError() {
			t.Fatalf("SetWeight %d: %s\n%s", step.weight, resp, logs)
		}
		stable, canary, _, err := moto.Weights(context.Background(), fixture)
		if err != nil || stable != step.stable || canary != step.canary {
			t.Fatalf("after SetWeight %d over RPC the rule has %d/%d (%v)", step.weight, stable, canary, err)
		}
		verified, resp := plugin.VerifyWeight(ro, step.weight, nil)
		if resp.HasError() || verified != types.Verified {
			t.Fatalf("VerifyWeight %d: %v %s", step.weight, verified, resp)
		}
	}
	if resp := plugin.UpdateHash(ro, "6f7d9c8b5", "5c4b3a291", nil); resp.HasError() {
		t.Fatal(resp)
	}
	if resp := plugin.RemoveManagedRoutes(ro); resp.HasError() {
		t.Fatal(resp)
	}
	header := plugin.SetHeaderRoute(ro, &v1alpha1.SetHeaderRoute{Name: "canary-header"})
	mirror := plugin.SetMirrorRoute(ro, &v1alpha1.SetMirrorRoute{Name: "mirror"})
	for _, resp := range []types.RpcError{header, mirror} {
		if !strings.Contains(resp.ErrorString, "does not support") {
			t.Fatalf("unsupported routes are RpcErrors, got %q", resp.ErrorString)
		}
	}
	broken := ro.DeepCopy()
	broken.Spec.Strategy.Canary.TrafficRouting.Plugins["golive/alb-listener-rule"] = json.RawMessage(`{"listenerRuleArn": 1}`)
	if resp := plugin.SetWeight(broken, 10, nil); !strings.Contains(resp.ErrorString, "listenerRuleArn must be a string") {
		t.Fatalf("a broken config is an RpcError, got %q", resp.ErrorString)
	}
	if resp := plugin.SetWeight(ro, 10, nil); resp.HasError() {
		t.Fatalf("the plugin still serves after an error: %s", resp)
	}
	if !strings.Contains(logs.String(), "weights set") {
		t.Fatalf("the plugin's log reaches the controller's:\n%s", logs)
	}
}

func TestThePluginRefusesToRunWithoutTheControllersCookie(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{"ARGO_ROLLOUTS_RPC_PLUGIN=metricprovider"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a plugin run by hand exits non-zero: %s", out)
	}
	if !strings.Contains(string(out), "plugin") {
		t.Fatalf("and says why: %s", out)
	}
}
