package stack

// Attr names an attribute a step records of its resource for other steps
// to read (Env.AttrOf) and for the state file. Writers and readers use the
// same constant, so a misspelt key does not compile; the values key the
// state file: never change one.
type Attr string

const (
	AttrCIDR           Attr = "cidr"             // vpc, subnets: the primary IPv4 block
	AttrCIDRBlocks     Attr = "cidr_blocks"      // vpc: every IPv4 block, comma-separated
	AttrIPv6CIDR       Attr = "ipv6_cidr"        // vpc, subnets: the IPv6 block
	AttrIPv6CIDRBlocks Attr = "ipv6_cidr_blocks" // vpc: every IPv6 block, comma-separated
	AttrZone           Attr = "zone"             // subnets: the Availability Zone
	AttrPublicIP       Attr = "public_ip"        // Elastic IPs: the address
	AttrIPv6Address    Attr = "ipv6_address"     // manager: its IPv6 address
	AttrGroup          Attr = "group"            // manager: the Auto Scaling group of its generation
	AttrKeyID          Attr = "key_id"           // kms/secrets: the key's id
	AttrBoundary       Attr = "boundary"         // IAM roles: the permissions boundary's ARN
	AttrRunnerID       Attr = "gitlab_runner_id" // ssm/token: GitLab's id of the runner
	AttrParameter      Attr = "parameter"        // gitlab/runner: the parameter holding its token
	AttrVersion        Attr = "version"          // ssm/runner-config: the parameter's version
)
