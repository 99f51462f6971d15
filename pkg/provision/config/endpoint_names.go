package config

// InterfaceEndpoints are the names network.endpoints takes, each with the
// services it stands for: ECR needs both its API and the Docker registry
// endpoint (its layers come from S3, through vpce/s3).
var InterfaceEndpoints = map[string][]string{
	"ssm":         {"ssm"},
	"ecr":         {"ecr.api", "ecr.dkr"},
	"sts":         {"sts"},
	"ec2":         {"ec2"},
	"autoscaling": {"autoscaling"},
	"logs":        {"logs"},
}
