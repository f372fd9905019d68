// Command alb-traffic-router is the golive/alb-listener-rule traffic-router plugin of Argo Rollouts: the controller
// downloads it (its ConfigMap names the release and its SHA-256), starts it and calls it over the hashicorp
// go-plugin handshake and net/rpc, as rollout/trafficrouting/plugin/rpc defines.
package main

import (
	"os"

	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"golive.dev/delivery/albtrafficrouter/internal/router"
)

// Handshake is the controller's: a plugin started with another cookie exits at once.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
	MagicCookieValue: "trafficrouter",
}

func main() {
	// JSON lines on stderr: go-plugin relays them into the controller's log with their level.
	log := hclog.New(&hclog.LoggerOptions{Name: router.PluginName, Level: hclog.Info, Output: os.Stderr, JSONFormat: true})
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins: map[string]goplugin.Plugin{
			"RpcTrafficRouterPlugin": &rpc.RpcTrafficRouterPlugin{Impl: router.New(router.SDKClients(), log)},
		},
	})
}
