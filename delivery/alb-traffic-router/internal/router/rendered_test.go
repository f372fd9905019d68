package router

import (
	"encoding/json"
	"os"
	"testing"
)

// TestConfigsTheStackRenders reads $GOLIVE_RENDERED_CONFIGS, written by tests/test_delivery_plugin.py from the prod
// stack's synth: {"accept": [what components/delivery.py renders into each canary Rollout], "reject": [variants the
// plugin must refuse]}. So the Python side and the plugin agree on the configuration's fields and forms.
func TestConfigsTheStackRenders(t *testing.T) {
	path := os.Getenv("GOLIVE_RENDERED_CONFIGS")
	if path == "" {
		t.Skip("GOLIVE_RENDERED_CONFIGS is set by tests/test_delivery_plugin.py")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases struct{ Accept, Reject []json.RawMessage }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.Accept) == 0 || len(cases.Reject) == 0 {
		t.Fatalf("nothing to check in %s", raw)
	}
	for _, cfg := range cases.Accept {
		if _, err := ParseConfig(cfg); err != nil {
			t.Errorf("the plugin refuses what the stack renders: %s: %v", cfg, err)
		}
	}
	for _, cfg := range cases.Reject {
		if _, err := ParseConfig(cfg); err == nil {
			t.Errorf("the plugin accepts %s", cfg)
		}
	}
}
