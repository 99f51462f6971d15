package gitlab

import (
	"crypto/tls"
	"net/http"
	"testing"
)

// The tokens cross only TLS 1.2 or newer.
func TestTransportRefusesOldTLS(t *testing.T) {
	transport, ok := newHTTPClient().Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", newHTTPClient().Transport)
	}
	if transport.TLSClientConfig == nil || transport.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Fatalf("TLS config %+v allows versions below 1.2", transport.TLSClientConfig)
	}
}
