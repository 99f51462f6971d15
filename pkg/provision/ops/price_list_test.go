package ops

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// TestOnDemandPrices reads prices out of GetProducts answers in the Price
// List API's format (eu-west-1's published prices), with the filters
// that pick the product the stack launches; a type the API lists no
// product for is left to the table.
func TestOnDemandPrices(t *testing.T) {
	raw, err := os.ReadFile("../awstest/testdata/price-list-eu-west-1.json")
	if err != nil {
		t.Fatal(err)
	}
	var answers map[string]pricing.GetProductsOutput
	if err := json.Unmarshal(raw, &answers); err != nil {
		t.Fatal(err)
	}
	c := awsfake.New()
	c.Pricing.GetProductsFn = func(_ context.Context, in *pricing.GetProductsInput) (*pricing.GetProductsOutput, error) {
		want := map[string]string{"regionCode": "eu-west-1", "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}
		itype := ""
		for _, f := range in.Filters {
			if aws.ToString(f.Field) == "instanceType" {
				itype = aws.ToString(f.Value)
			} else if want[aws.ToString(f.Field)] != aws.ToString(f.Value) {
				t.Errorf("filter %s=%s", aws.ToString(f.Field), aws.ToString(f.Value))
			}
		}
		if aws.ToString(in.ServiceCode) != "AmazonEC2" {
			t.Errorf("service code %q", aws.ToString(in.ServiceCode))
		}
		a := answers[itype]
		return &a, nil
	}
	got, err := OnDemandPrices(context.Background(), c.Pricing, "eu-west-1", []string{"t3.micro", "t3.medium", "t3.micro", "x9.huge"})
	if err != nil {
		t.Fatal(err)
	}
	if got["t3.micro"] != 0.0114 || got["t3.medium"] != 0.0456 || len(got) != 2 {
		t.Errorf("prices %v, want t3.micro 0.0114 and t3.medium 0.0456 only", got)
	}
	if n := len(c.Calls()); n != 3 {
		t.Errorf("%d calls for 3 distinct types", n)
	}
	// The manager's price comes from the list when it has one.
	cfg := config.Defaults()
	items := StandingCost(&cfg, got)
	for _, i := range items {
		if i.What == "manager t3.micro (20 GiB gp3)" && (i.Monthly < 0.0114*730+1.59 || i.Monthly > 0.0114*730+1.61 || i.Note != "instance price from the AWS Price List API") {
			t.Errorf("the manager's item: %+v", i)
		}
	}
	if _, ok := onDemandPerHour(`{"terms":{"OnDemand":{"a":{"priceDimensions":{"b":{"unit":"Hrs","pricePerUnit":{"USD":"0.0000000000"}}}}}}}`); ok {
		t.Error("a zero price (a product of another kind) is taken")
	}
}
