// Package provision is what the commands ask of the AWS side of a stack
// (AWSStack): discovery and preflight (package preflight), the graph of
// steps to plan, apply or tear down (package stack), and what status,
// doctor and the boot wait show (package ops); plus the record, kept in
// the account, of where the stack's state lives. The commands take it
// through an interface (command.Stack), so they are tested without AWS.
//
// The subpackages, by role: config (the configuration file), awsapi (the
// SDK, retries, error kinds, narrow clients), resource (the generic step),
// policy (the IAM documents), stack (the kinds), preflight, ops, command
// (one function per command), bootstrap (the manager's and machines'
// user-data), gitlab, traffic (how AWS evaluates network rules). The test
// doubles: awsapi/awsfake, stack/stacktest, awstest (the emulator, its
// proxy, an IAM evaluator), gitlabtest. CONTRIBUTING.md has the map.
package provision
