package awstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fixLaunchTemplateTags makes DescribeLaunchTemplates answer as AWS does,
// with the template's tags as they are now: moto takes a copy of the tags
// when the template is created and never shows the ones CreateTags and
// DeleteTags change later (its DescribeTags does). The tagSet of every
// template in the answer is rewritten from DescribeTags.
func fixLaunchTemplateTags(target, region string, body []byte) []byte {
	c := ec2.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), BaseEndpoint: aws.String(target)})
	open, closeTag := []byte("<launchTemplateId>"), []byte("</launchTemplateId>")
	var out bytes.Buffer
	rest := body
	for {
		i := bytes.Index(rest, open)
		if i < 0 {
			out.Write(rest)
			return out.Bytes()
		}
		j := bytes.Index(rest[i:], closeTag)
		id := string(rest[i+len(open) : i+j])
		start := bytes.Index(rest[i:], []byte("<tagSet>"))
		end := bytes.Index(rest[i:], []byte("</tagSet>"))
		next := bytes.Index(rest[i+j:], open)
		if start < 0 || end < start || (next >= 0 && i+j+next < i+start) {
			out.Write(rest[:i+j])
			rest = rest[i+j:]
			continue
		}
		tags, err := c.DescribeTags(context.Background(), &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{id}}}})
		if err != nil {
			out.Write(rest[:i+j])
			rest = rest[i+j:]
			continue
		}
		out.Write(rest[:i+start])
		out.WriteString("<tagSet>")
		for _, t := range tags.Tags {
			fmt.Fprintf(&out, "<item><key>%s</key><value>%s</value></item>", html.EscapeString(aws.ToString(t.Key)), html.EscapeString(aws.ToString(t.Value)))
		}
		out.WriteString("</tagSet>")
		rest = rest[i+end+len("</tagSet>"):]
	}
}

// fixContentLength keeps a rewritten answer's length right.
func fixContentLength(b *bufferedResponse) {
	b.header.Set("Content-Length", strconv.Itoa(b.body.Len()))
}

// SubnetDependencies answers DeleteSubnet as AWS does while a network
// interface is still in the subnet: DependencyViolation ("The subnet ...
// has dependencies and cannot be deleted"). moto deletes the subnet
// anyway, which would hide how down names what holds a subnet.
func SubnetDependencies(target, region string) Fault {
	c := ec2.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), BaseEndpoint: aws.String(target)})
	return func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		if action != "DeleteSubnet" {
			return false, false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		v, _ := url.ParseQuery(string(body))
		id := v.Get("SubnetId")
		out, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{id}}}})
		if err != nil || len(out.NetworkInterfaces) == 0 {
			return false, false
		}
		writeError(w, r, http.StatusBadRequest, "DependencyViolation", fmt.Sprintf("The subnet '%s' has dependencies and cannot be deleted.", id))
		return true, false
	}
}

// EmulatorAccount is the account moto_server gives every caller (STS
// GetCallerIdentity answers it for any credentials) and so the owner of
// every bucket.
const EmulatorAccount = "123456789012"

const expectedOwnerHeader = "X-Amz-Expected-Bucket-Owner"

// refuseForeignBucket answers an S3 call that names another account than
// the bucket's as its owner as AWS does: 403 AccessDenied, and the call
// has no effect ("Verifying bucket ownership with bucket owner condition",
// S3 User Guide). moto ignores the header, so a call that named the wrong
// account, or a change that sent the caller's account to a bucket of
// another, would pass every test. A call naming no owner is not checked,
// as on AWS.
func refuseForeignBucket(w http.ResponseWriter, r *http.Request) bool {
	owner := r.Header.Get(expectedOwnerHeader)
	if serviceOf(r) != "s3" || owner == "" || owner == EmulatorAccount {
		return false
	}
	writeError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
	return true
}

// ConditionalConflict answers the first n conditional writes (If-Match or
// If-None-Match on PutObject or DeleteObject) of the object at path with
// 409 ConditionalRequestConflict, as S3 does while another conditional
// write of that key is in flight (PutObject's If-Match and If-None-Match in
// the S3 API reference: "On a 409 failure you should retry"). moto
// serializes its requests and never answers 409.
func ConditionalConflict(path string, n int) Fault {
	var mu sync.Mutex
	left := n
	return func(w http.ResponseWriter, r *http.Request, action string, _ int) (bool, bool) {
		conditional := r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != ""
		if (action != "PutObject" && action != "DeleteObject") || r.URL.Path != path || !conditional {
			return false, false
		}
		mu.Lock()
		defer mu.Unlock()
		if left == 0 {
			return false, false
		}
		left--
		writeError(w, r, http.StatusConflict, "ConditionalRequestConflict", "A conflicting conditional operation is in progress on this key; retry the request.")
		return true, false
	}
}

// refuseLargeParameter answers as SSM does a PutParameter whose value is
// over a Standard parameter's 4 KB without a tier that allows more, or over
// an Advanced one's 8 KB ("Parameter tiers" in the Systems Manager user
// guide: 4 KB Standard, 8 KB Advanced; Intelligent-Tiering picks Advanced
// when the value needs it). moto takes any size.
func refuseLargeParameter(w http.ResponseWriter, r *http.Request, action string, body []byte) bool {
	if action != "AmazonSSM.PutParameter" {
		return false
	}
	var in struct{ Value, Tier string }
	if json.Unmarshal(body, &in) != nil {
		return false
	}
	limit := 4096
	if in.Tier == "Advanced" || in.Tier == "Intelligent-Tiering" {
		limit = 8192
	}
	if len(in.Value) > limit {
		writeError(w, r, http.StatusBadRequest, "ValidationException", fmt.Sprintf("Parameter value is %d characters; the %s tier holds at most %d.", len(in.Value), cmp.Or(in.Tier, "Standard"), limit))
		return true
	}
	return false
}

// refuseLargeUserData answers as EC2 does a launch whose user-data is
// over 16 KB before base64 ("User data is limited to 16 KB, in raw form,
// before it is base64-encoded", EC2 User Guide); moto takes any size, so
// a manager whose scripts outgrew the limit would pass every test here
// and fail on AWS.
func refuseLargeUserData(w http.ResponseWriter, r *http.Request, action string, body []byte) bool {
	if action != "RunInstances" && action != "CreateLaunchTemplate" && action != "CreateLaunchTemplateVersion" {
		return false
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return false
	}
	for _, key := range []string{"UserData", "LaunchTemplateData.UserData"} {
		raw, err := base64.StdEncoding.DecodeString(v.Get(key))
		if err == nil && len(raw) > 16384 {
			writeError(w, r, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("User data is limited to 16384 bytes (this one is %d)", len(raw)))
			return true
		}
	}
	return false
}
