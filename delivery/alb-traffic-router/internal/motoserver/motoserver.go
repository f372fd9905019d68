// Package motoserver runs moto in server mode (the AWS API emulator the project pins in requirements-dev.txt) for
// the plugin's integration tests, and builds in it what the edge declares for a canary service: an Application Load
// Balancer, an HTTPS-less listener, the service's rule and its stable and canary target groups.
//
// The tests find the server as $MOTO_SERVER or `moto_server` on PATH; `make test` sets MOTO_REQUIRED=1, so a missing
// server fails there instead of skipping.
package motoserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Credentials moto accepts (it checks none); never real ones.
const (
	AccessKey = "testing"
	SecretKey = "testing"
	Region    = "eu-west-1"
)

// ErrNotInstalled: no moto_server to start.
var ErrNotInstalled = errors.New("moto_server not found: set MOTO_SERVER or put it on PATH (pip install -r requirements-dev.txt)")

// Required tells whether a missing moto server is a failure (under `make test`) rather than a reason to skip.
func Required() bool { return os.Getenv("MOTO_REQUIRED") == "1" }

// Server is a running moto_server.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	log      *bytes.Buffer
}

// Start launches moto_server on a free loopback port and waits until it answers.
func Start() (*Server, error) {
	path := os.Getenv("MOTO_SERVER")
	if path == "" {
		found, err := exec.LookPath("moto_server")
		if err != nil {
			return nil, ErrNotInstalled
		}
		path = found
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log := &bytes.Buffer{}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	stopWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, log: log}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto_server exited (%v): %s", err, log.String())
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("moto_server did not answer on %s within 60 s: %s", s.Endpoint, log.String())
}

// Stop ends the server (SIGTERM: moto exits cleanly).
func (s *Server) Stop() {
	if s != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Client is an ELB client of the server.
func (s *Server) Client() *elbv2.Client {
	return elbv2.New(elbv2.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Fixture is a canary service's routing as the edge declares it.
type Fixture struct {
	LoadBalancerArn, ListenerArn, RuleArn, StableArn, CanaryArn string
}

// NewFixture creates, under `name`, a load balancer in the default VPC, a listener, two IP target groups and a
// rule forwarding to them (stable 100, canary 0, stickiness on for 300 s) on the host name.host.example.com.
func (s *Server) NewFixture(ctx context.Context, name string) (Fixture, error) {
	vpc, subnets, err := s.defaultSubnets(ctx)
	if err != nil {
		return Fixture{}, err
	}
	c := s.Client()
	var f Fixture
	for role, arn := range map[string]*string{"": &f.StableArn, "-canary": &f.CanaryArn} {
		out, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(name + role + "-tg"), TargetType: elbtypes.TargetTypeEnumIp, Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String(vpc),
		})
		if err != nil {
			return Fixture{}, fmt.Errorf("CreateTargetGroup: %w", err)
		}
		*arn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name + "-alb"), Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: subnets,
	})
	if err != nil {
		return Fixture{}, fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	f.LoadBalancerArn = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	listener, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(f.LoadBalancerArn), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain")}}},
	})
	if err != nil {
		return Fixture{}, fmt.Errorf("CreateListener: %w", err)
	}
	f.ListenerArn = aws.ToString(listener.Listeners[0].ListenerArn)
	rule, err := c.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: aws.String(f.ListenerArn), Priority: aws.Int32(100),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"),
			HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{name + ".example.com"}}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(f.StableArn), Weight: aws.Int32(100)},
				{TargetGroupArn: aws.String(f.CanaryArn), Weight: aws.Int32(0)},
			},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(300)},
		}}},
		Tags: []elbtypes.Tag{{Key: aws.String("golive:delivery"), Value: aws.String("canary")}},
	})
	if err != nil {
		return Fixture{}, fmt.Errorf("CreateRule: %w", err)
	}
	f.RuleArn = aws.ToString(rule.Rules[0].RuleArn)
	return f, nil
}

// Weights reads the rule's forward weights (stable, canary) and its stickiness, straight from the server.
func (s *Server) Weights(ctx context.Context, f Fixture) (stable, canary int32, sticky elbtypes.TargetGroupStickinessConfig, err error) {
	out, err := s.Client().DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{f.RuleArn}})
	if err != nil {
		return 0, 0, sticky, err
	}
	for _, action := range out.Rules[0].Actions {
		if action.ForwardConfig == nil {
			continue
		}
		if action.ForwardConfig.TargetGroupStickinessConfig != nil {
			sticky = *action.ForwardConfig.TargetGroupStickinessConfig
		}
		for _, tg := range action.ForwardConfig.TargetGroups {
			switch aws.ToString(tg.TargetGroupArn) {
			case f.StableArn:
				stable = aws.ToInt32(tg.Weight)
			case f.CanaryArn:
				canary = aws.ToInt32(tg.Weight)
			}
		}
	}
	return stable, canary, sticky, nil
}

// defaultSubnets finds moto's default VPC and two of its subnets with EC2's query API (signed, so the server routes
// it to EC2), sparing the tests the EC2 SDK.
func (s *Server) defaultSubnets(ctx context.Context) (string, []string, error) {
	form := url.Values{"Action": {"DescribeSubnets"}, "Version": {"2016-11-15"},
		"Filter.1.Name": {"default-for-az"}, "Filter.1.Value.1": {"true"}}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/", bytes.NewBufferString(body))
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", Region, time.Now()); err != nil {
		return "", nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("DescribeSubnets: %s: %s", resp.Status, raw)
	}
	var parsed struct {
		Subnets []struct {
			ID  string `xml:"subnetId"`
			VPC string `xml:"vpcId"`
		} `xml:"subnetSet>item"`
	}
	if err := xml.Unmarshal(raw, &parsed); err != nil {
		return "", nil, fmt.Errorf("DescribeSubnets: %w", err)
	}
	if len(parsed.Subnets) < 2 {
		return "", nil, fmt.Errorf("DescribeSubnets: %d default subnets, want 2: %s", len(parsed.Subnets), raw)
	}
	return parsed.Subnets[0].VPC, []string{parsed.Subnets[0].ID, parsed.Subnets[1].ID}, nil
}
