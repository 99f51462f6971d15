package awsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
)

// After the first Ctrl-C no new write reaches AWS; reads still do.
func TestNoWritesAfterInterrupt(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Form.Get("Action"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId></Response>`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	interrupt := make(chan struct{})
	cfg, err := LoadAWSConfig(context.Background(), AWSOptions{Region: "eu-west-1", Interrupt: interrupt})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{}); err != nil {
		t.Fatalf("a write before the interrupt: %v", err)
	}
	close(interrupt)
	_, err = c.CreateVpc(ctx, &ec2.CreateVpcInput{})
	if !errors.Is(err, plan.ErrInterrupted) {
		t.Errorf("a write after the interrupt: %v, want it refused", err)
	}
	if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("a read after the interrupt: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := len(seen); got != 2 || seen[0] != "CreateVpc" || seen[1] != "DescribeVpcs" {
		t.Errorf("calls that reached AWS: %v", seen)
	}
}
