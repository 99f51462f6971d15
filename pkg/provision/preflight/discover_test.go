package preflight

import (
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

func TestRootVolumeNotSmallerThanTheImage(t *testing.T) {
	cfg := config.Defaults()
	cfg.Runners.VolumeSizeGB = 20
	e := &stack.Env{Cfg: &cfg, Images: stack.Images{Runner: stack.Image{ID: "ami-ecs", RootSizeGB: 30}}}
	if err := checkRootVolume(e); err == nil || !strings.Contains(err.Error(), "at least 30") {
		t.Errorf("a 20 GiB root for a 30 GiB image: %v", err)
	}
	cfg.Runners.VolumeSizeGB = 30
	if err := checkRootVolume(e); err != nil {
		t.Errorf("30 GiB for a 30 GiB image: %v", err)
	}
	e.Images.Runner.RootSizeGB = 0 // not known
	cfg.Runners.VolumeSizeGB = 8
	if err := checkRootVolume(e); err != nil {
		t.Errorf("unknown snapshot size: %v", err)
	}
}
