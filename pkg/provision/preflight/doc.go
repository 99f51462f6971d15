// Package preflight finds what every plan needs besides the resources
// (the account, the zone, the paths to GitLab) and checks, before anything
// is changed, everything `up` needs: the region, the tokens, quotas, the
// user's VPC, images and instance types, the permissions boundary.
package preflight
