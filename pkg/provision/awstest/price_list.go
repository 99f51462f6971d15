package awstest

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"slices"
)

// priceListAnswers are GetProducts answers in the AWS Price List API's
// format, by instance type, with eu-west-1's published on-demand prices
// (t3.micro and t3.medium, Linux, shared tenancy).
//
//go:embed testdata/price-list-eu-west-1.json
var priceListAnswers []byte

// priceListRegions are where the Price List API has an endpoint.
var priceListRegions = []string{"us-east-1", "eu-central-1", "ap-south-1"}

// answerPriceList stands in for the AWS Price List API, which moto does
// not have: an AmazonEC2 GetProducts filtered to one instance type in
// eu-west-1 gets its product; any other filter an empty list. A call
// signed for a region without the API's endpoint is refused, as the
// network would.
func answerPriceList(w http.ResponseWriter, r *http.Request, action string, body []byte) bool {
	if action != "AWSPriceListService.GetProducts" {
		return false
	}
	if !slices.Contains(priceListRegions, regionOf(r)) {
		writeError(w, r, http.StatusBadRequest, "UnrecognizedClientException", "the Price List API has no endpoint in "+regionOf(r))
		return true
	}
	var in struct {
		ServiceCode string
		Filters     []struct{ Field, Type, Value string }
	}
	_ = json.Unmarshal(body, &in)
	var answers map[string]json.RawMessage
	_ = json.Unmarshal(priceListAnswers, &answers)
	out := json.RawMessage(`{"FormatVersion":"aws_v1","PriceList":[]}`)
	itype, region := "", ""
	for _, f := range in.Filters {
		switch f.Field {
		case "instanceType":
			itype = f.Value
		case "regionCode":
			region = f.Value
		}
	}
	if a, ok := answers[itype]; ok && in.ServiceCode == "AmazonEC2" && region == "eu-west-1" {
		out = a
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return true
}
