package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// PriceListRegion is where the AWS Price List API answers for the aws
// partition's regions (it has endpoints in us-east-1, eu-central-1 and
// ap-south-1 only, and lists every region's prices from each).
const PriceListRegion = "us-east-1"

// OnDemandPrices asks the AWS Price List API for the on-demand price per
// hour of each instance type in the region: Linux, shared tenancy, no
// pre-installed software, as used (not a capacity reservation), which is
// how the stack launches its instances. A type the API has no such
// product for is left out; an error means none could be read.
func OnDemandPrices(ctx context.Context, c awsapi.Pricing, region string, types []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, t := range types {
		if _, done := out[t]; done {
			continue
		}
		res, err := c.GetProducts(ctx, &pricing.GetProductsInput{
			ServiceCode: aws.String("AmazonEC2"),
			Filters: []pricingtypes.Filter{
				termMatch("instanceType", t), termMatch("regionCode", region), termMatch("operatingSystem", "Linux"),
				termMatch("tenancy", "Shared"), termMatch("preInstalledSw", "NA"), termMatch("capacitystatus", "Used"),
			},
			MaxResults: aws.Int32(10),
		})
		if err != nil {
			return nil, fmt.Errorf("read the price of %s from the AWS Price List API: %w", t, err)
		}
		for _, doc := range res.PriceList {
			if p, ok := onDemandPerHour(doc); ok {
				out[t] = p
				break
			}
		}
	}
	return out, nil
}

func termMatch(field, value string) pricingtypes.Filter {
	return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

// priceListProduct is the part of a Price List product document read
// here: its on-demand terms, each with its price dimensions.
type priceListProduct struct {
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// onDemandPerHour reads the hourly USD price of a product document; ok
// false when it has none above zero (a product of another kind).
func onDemandPerHour(doc string) (float64, bool) {
	var p priceListProduct
	if json.Unmarshal([]byte(doc), &p) != nil {
		return 0, false
	}
	for _, term := range p.Terms.OnDemand {
		for _, d := range term.PriceDimensions {
			if !strings.EqualFold(d.Unit, "Hrs") {
				continue
			}
			if usd, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64); err == nil && usd > 0 {
				return usd, true
			}
		}
	}
	return 0, false
}
