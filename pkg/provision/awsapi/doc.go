// Package awsapi is how the tool talks to AWS, whatever the resource: the
// SDK's configuration (retries of reads, writes retried only when
// throttled, no new write after Ctrl-C, the step named in the User-Agent),
// the error kinds the steps act on (not found, transient, try again), and
// the per-run cache of reads several steps share.
package awsapi

//go:generate go run ../../../scripts/clientgen
