// Package ops holds what the commands show about a stack rather than
// build: doctor (each flow checked against the live rules), inspect (the
// facts status reports), the boot diagnosis and the runner's status in
// GitLab, the step and network diagrams, the outputs, and the operator's
// IAM policy.
package ops
