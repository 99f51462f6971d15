// Package e2e holds the end-to-end tests: the real provision binary against
// moto_server, through a proxy that counts (and can disturb) every call.
package e2e
