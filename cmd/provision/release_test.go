package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// testVersion is the version the release tests build.
const testVersion = "v0.0.1-test"

// repoRoot is the repository this package is in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cloneHEAD clones the repository's HEAD into a new directory: what a
// release is built from is a commit, never the working tree.
func cloneHEAD(t *testing.T, dir string) string {
	t.Helper()
	runCmd(t, "", nil, "git", "clone", "-q", repoRoot(t), dir)
	return dir
}

func runCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// scripts/release builds binaries for two platforms, their checksums and
// the SBOM; a second build of the same commit, in another directory, is
// byte for byte the same; the binary says the version it was given.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release binaries: run without -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	targets := []string{runtime.GOOS + "/" + runtime.GOARCH, "windows/arm64"}
	if runtime.GOOS == "windows" {
		targets[1] = "linux/arm64"
	}
	sums := map[string]string{}
	for _, name := range []string{"a", "b"} {
		dir := cloneHEAD(t, filepath.Join(t.TempDir(), name))
		if name == "a" {
			// An untagged commit is refused: the version is the tag's.
			cmd := exec.Command("scripts/release", testVersion, targets[0])
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "HEAD is not tagged "+testVersion) {
				t.Errorf("a release of an untagged commit: %v\n%s", err, out)
			}
		}
		runCmd(t, dir, []string{"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com"}, "git", "tag", testVersion)
		runCmd(t, dir, nil, "scripts/release", append([]string{testVersion}, targets...)...)
		out := filepath.Join(dir, "dist", testVersion)
		b, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		sums[name] = string(b)
		checkSums(t, out, string(b))
		if name == "a" {
			checkSBOM(t, filepath.Join(out, "provision_"+testVersion+".cdx.json"))
			bin := filepath.Join(out, "provision_"+testVersion+"_"+runtime.GOOS+"_"+runtime.GOARCH)
			if runtime.GOOS == "windows" {
				bin += ".exe"
			}
			head := strings.TrimSpace(runCmd(t, dir, nil, "git", "rev-parse", "HEAD"))
			v := runCmd(t, dir, nil, bin, "version")
			if !strings.HasPrefix(v, "provision "+testVersion+", commit "+head[:12]+", built from a commit of ") {
				t.Errorf("the release binary says %q", v)
			}
			for _, fi := range mustList(t, out) {
				t.Logf("%s: %d bytes", fi.Name(), fi.Size())
			}
		}
	}
	if sums["a"] != sums["b"] {
		t.Errorf("two builds of one commit differ:\n%s\n---\n%s", sums["a"], sums["b"])
	}
}

func mustList(t *testing.T, dir string) []os.FileInfo {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []os.FileInfo
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi)
	}
	return out
}

// checkSums verifies SHA256SUMS as `sha256sum -c` does, and that it lists
// every file but itself.
func checkSums(t *testing.T, dir, sums string) {
	t.Helper()
	listed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(sums))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			t.Errorf("%s: sum %s, SHA256SUMS says %s", name, got, sum)
		}
		listed[name] = true
	}
	for _, fi := range mustList(t, dir) {
		if fi.Name() != "SHA256SUMS" && !listed[fi.Name()] {
			t.Errorf("%s is not in SHA256SUMS", fi.Name())
		}
	}
}

// checkSBOM parses the SBOM as CycloneDX JSON and finds the AWS SDK in it.
func checkSBOM(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name, Version, Purl string
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatalf("the SBOM is not JSON: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" || bom.Metadata.Component.Name != "github.com/provision-dev/provision" || bom.Metadata.Component.Version != testVersion {
		t.Errorf("the SBOM: format %q, spec %q, component %+v", bom.BOMFormat, bom.SpecVersion, bom.Metadata.Component)
	}
	found := false
	for _, c := range bom.Components {
		found = found || (c.Name == "github.com/aws/aws-sdk-go-v2" && c.Version != "" && strings.HasPrefix(c.Purl, "pkg:golang/github.com/aws/aws-sdk-go-v2@"))
	}
	if !found {
		t.Errorf("the SBOM does not list github.com/aws/aws-sdk-go-v2 (%d components)", len(bom.Components))
	}
}

// `go install github.com/provision-dev/provision/cmd/provision@VERSION`
// works: the module has no replace directive (go install refuses one)
// and builds outside this repository. The module is fetched with git,
// from a clone tagged VERSION standing in for GitHub.
func TestGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tool from a module: run without -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := cloneHEAD(t, filepath.Join(t.TempDir(), "origin"))
	runCmd(t, dir, []string{"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com"}, "git", "tag", testVersion)
	bin := t.TempDir()
	env := []string{
		"GOBIN=" + bin, "GOFLAGS=", "GOPRIVATE=github.com/provision-dev/provision",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=url.file://" + dir + ".insteadOf", "GIT_CONFIG_VALUE_0=https://github.com/provision-dev/provision",
	}
	runCmd(t, t.TempDir(), env, "go", "install", "github.com/provision-dev/provision/cmd/provision@"+testVersion)
	if v := runCmd(t, "", nil, filepath.Join(bin, "provision"), "version"); !strings.HasPrefix(v, "provision "+testVersion) {
		t.Errorf("the installed binary says %q", v)
	}
}
