package s3state

import "testing"

func TestParseLocation(t *testing.T) {
	good := map[string]Location{
		"s3://ci-state/runners/ci.json": {Bucket: "ci-state", Key: "runners/ci.json"},
		"s3://b/k":                      {Bucket: "b", Key: "k"},
	}
	for in, want := range good {
		got, err := ParseLocation(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"s3://bucket", "s3://bucket/", "https://b/k", "ci-state/k", "s3:///k"} {
		if _, err := ParseLocation(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
