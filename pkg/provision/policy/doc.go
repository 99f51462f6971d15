// Package policy holds the IAM documents of the stack's roles and key:
// the manager's policies for each executor, the trust of EC2, the secrets
// key's policy, the ARNs they name, and the names they must match (the
// groups' names); and how two documents are compared by meaning.
package policy
