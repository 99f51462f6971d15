package awsapi

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A missing profile is named, with how to list the profiles.
func TestLoadAWSConfigMissingProfile(t *testing.T) {
	isolateAWSEnv(t)
	file := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(file, []byte("[profile other]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", file)
	_, err := LoadAWSConfig(context.Background(), AWSOptions{Region: "eu-west-1", Profile: "ci"})
	if err == nil || !strings.Contains(err.Error(), `AWS profile "ci" does not exist in `) || !strings.Contains(err.Error(), "list-profiles") {
		t.Errorf("err = %v", err)
	}
}

// A profile from the shared config gives its region.
func TestLoadAWSConfigProfileRegion(t *testing.T) {
	isolateAWSEnv(t)
	file := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(file, []byte("[profile ci]\nregion = eu-central-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", file)
	cfg, err := LoadAWSConfig(context.Background(), AWSOptions{Profile: "ci"})
	if err != nil || cfg.Region != "eu-central-1" {
		t.Errorf("region %q, err %v", cfg.Region, err)
	}
}

// Without a region from anywhere the error says where to set one.
func TestLoadAWSConfigNoRegion(t *testing.T) {
	isolateAWSEnv(t)
	_, err := LoadAWSConfig(context.Background(), AWSOptions{})
	if err == nil || !strings.Contains(err.Error(), "no AWS region") || !strings.Contains(err.Error(), "--region") {
		t.Errorf("err = %v", err)
	}
}

// A region from the environment is checked as the configuration's is.
func TestLoadAWSConfigChecksEnvRegion(t *testing.T) {
	isolateAWSEnv(t)
	t.Setenv("AWS_REGION", "eu-west-9")
	_, err := LoadAWSConfig(context.Background(), AWSOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "region: ") || !strings.Contains(err.Error(), "eu-west-9") {
		t.Errorf("err = %v", err)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	if cfg, err := LoadAWSConfig(context.Background(), AWSOptions{}); err != nil || cfg.Region != "eu-west-1" {
		t.Errorf("a known region: %q %v", cfg.Region, err)
	}
}
