package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// failFirst answers the first call of each action with status and code,
// every later one with success.
func failFirst(status int, code string) func(http.ResponseWriter, string, int) {
	return func(w http.ResponseWriter, _ string, n int) {
		if n == 0 {
			w.WriteHeader(status)
			fmt.Fprintf(w, ec2Fail, code)
			return
		}
		_, _ = w.Write([]byte(ec2OK))
	}
}

// A read answered with a server error is sent again by the SDK.
func TestReadRetriedAfterServerError(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, failFirst(http.StatusInternalServerError, "InternalError"))
	if _, err := ec2.NewFromConfig(cfg).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("the read failed: %v", err)
	}
	if n := f.count("DescribeVpcs"); n != 2 {
		t.Errorf("DescribeVpcs sent %d times, want 2", n)
	}
}

// A write answered 5xx is not resent (it may have taken effect) but is transient.
func TestWriteNotResentAfterServerError(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, failFirst(http.StatusInternalServerError, "InternalError"))
	_, err := ec2.NewFromConfig(cfg).CreateVpc(context.Background(), &ec2.CreateVpcInput{})
	if err == nil {
		t.Fatal("the write succeeded; want the server error")
	}
	if n := f.count("CreateVpc"); n != 1 {
		t.Errorf("CreateVpc sent %d times, want 1", n)
	}
	if !IsTransient(err) {
		t.Errorf("IsTransient(%v) = false", err)
	}
}

// A throttled write was refused before AWS did anything: the SDK resends it.
func TestThrottledWriteResent(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, failFirst(http.StatusBadRequest, "Throttling"))
	if _, err := ec2.NewFromConfig(cfg).CreateVpc(context.Background(), &ec2.CreateVpcInput{}); err != nil {
		t.Fatalf("the throttled write failed: %v", err)
	}
	if n := f.count("CreateVpc"); n != 2 {
		t.Errorf("CreateVpc sent %d times, want 2", n)
	}
}

// A write refused for any other reason is not resent and is not transient.
func TestRefusedWriteNotResent(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, failFirst(http.StatusBadRequest, "InvalidParameterValue"))
	_, err := ec2.NewFromConfig(cfg).CreateVpc(context.Background(), &ec2.CreateVpcInput{})
	if ErrorCode(err) != "InvalidParameterValue" {
		t.Fatalf("err = %v, want InvalidParameterValue", err)
	}
	if n := f.count("CreateVpc"); n != 1 {
		t.Errorf("CreateVpc sent %d times, want 1", n)
	}
	if IsTransient(err) {
		t.Errorf("IsTransient(%v) = true", err)
	}
}

// A write whose connection drops is not resent: it may have reached AWS.
func TestWriteNotResentAfterDroppedConnection(t *testing.T) {
	f, cfg := newEndpoint(t, AWSOptions{}, func(w http.ResponseWriter, _ string, _ int) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := ec2.NewFromConfig(cfg).CreateVpc(context.Background(), &ec2.CreateVpcInput{})
	if err == nil {
		t.Fatal("the write succeeded over a dropped connection")
	}
	if n := f.count("CreateVpc"); n != 1 {
		t.Errorf("CreateVpc sent %d times, want 1", n)
	}
	if !IsTransient(err) {
		t.Errorf("IsTransient(%v) = false", err)
	}
}

// After the interrupt the state's own S3 writes still go out, so progress is saved.
func TestStateWritesAfterInterrupt(t *testing.T) {
	interrupt := make(chan struct{})
	close(interrupt)
	f, cfg := newEndpoint(t, AWSOptions{Interrupt: interrupt}, func(http.ResponseWriter, string, int) {})
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("ci.json"), Body: strings.NewReader("{}")})
	if err != nil {
		t.Fatalf("the state write after the interrupt: %v", err)
	}
	if n := f.count("PUT /state/ci.json"); n != 1 {
		t.Errorf("PutObject sent %d times, want 1", n)
	}
}
