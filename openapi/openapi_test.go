package openapi_test

import (
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/safethird/safethird/openapi"
)

// The document is a valid OpenAPI 3 document, checked against the OpenAPI
// schema by a real validator, and describes every REST path of the API.
func TestDocumentIsValidOpenAPI(t *testing.T) {
	doc, err := libopenapi.NewDocument([]byte(openapi.Document()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("build validator: %v", errs)
	}
	if ok, problems := v.ValidateDocument(); !ok {
		for _, p := range problems {
			t.Errorf("%s", p.Error())
			for _, se := range p.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	wantOps := map[string]string{
		"POST /v1/countries/{countryCode}:assess":   "AssessmentService_AssessCountry",
		"POST /v1/countries:batchAssess":            "AssessmentService_BatchAssessCountries",
		"POST /v1/routes:assess":                    "AssessmentService_AssessRoute",
		"POST /v1/countries/{countryCode}:timeline": "AssessmentService_AssessTimeline",
		"GET /v1/countries":                         "CatalogService_ListCountries",
		"GET /v1/countries/{countryCode}":           "CatalogService_GetCountry",
		"GET /v1/agreements":                        "CatalogService_ListAgreements",
		"GET /v1/agreements/{agreementId}":          "CatalogService_GetAgreement",
		"GET /v1/frameworks":                        "CatalogService_ListFrameworks",
		"GET /v1/frameworks/{frameworkId}":          "CatalogService_GetFramework",
	}
	got := map[string]string{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			got[strings.ToUpper(method)+" "+path] = op.OperationId
		}
	}
	for k, want := range wantOps {
		if got[k] != want {
			t.Errorf("%s: operation %q, want %q", k, got[k], want)
		}
	}
	if len(got) != len(wantOps) {
		t.Errorf("the document has %d operations, want %d: %v", len(got), len(wantOps), got)
	}
}
