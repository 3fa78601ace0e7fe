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
		"GET /v1/revisions":                         "CatalogService_ListRevisions",
		"GET /healthz":                              "Health_Liveness",
		"GET /readyz":                               "Health_Readiness",
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

// What generators and linters need beyond validity: a summary on every
// operation; the bearer token on every call but the health checks; each
// error status a call can answer, with google.rpc.Status; the memo as
// text/markdown on AssessCountry.
func TestOperationsDescribeTokensErrorsAndTheMemo(t *testing.T) {
	doc, err := libopenapi.NewDocument([]byte(openapi.Document()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	m := model.Model
	if len(m.Servers) == 0 {
		t.Error("no servers")
	}
	if len(m.Security) != 1 || m.Security[0].Requirements.Len() != 1 || !has(m.Security[0].Requirements.Get("bearer")) {
		t.Errorf("the document's security is not the bearer scheme alone")
	}
	if s := m.Components.SecuritySchemes.GetOrZero("bearer"); s == nil || s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("securitySchemes.bearer is %+v, want http bearer", s)
	}
	wantErrors := map[string][]string{
		"AssessmentService_AssessCountry":        {"400", "401", "404", "412", "413", "429", "500", "503", "504"},
		"AssessmentService_BatchAssessCountries": {"400", "401", "413", "429", "500", "503", "504"},
		"AssessmentService_AssessRoute":          {"400", "401", "404", "412", "413", "429", "500", "503", "504"},
		"CatalogService_ListCountries":           {"400", "401", "429", "500", "503", "504"},
		"CatalogService_GetCountry":              {"400", "401", "404", "429", "500", "503", "504"},
		"Health_Liveness":                        nil,
		"Health_Readiness":                       {"404", "503"},
	}
	for path, item := range m.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := strings.ToUpper(method) + " " + path
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary %q, description %q: want both", where, op.Summary, op.Description)
			}
			health := strings.HasPrefix(op.OperationId, "Health_")
			switch {
			case health && (len(op.Security) != 1 || op.Security[0].Requirements.Len() != 0):
				t.Errorf("%s: a health check must need no token", where)
			case !health && op.Security != nil:
				t.Errorf("%s: a call must keep the document's bearer requirement", where)
			}
			if op.Responses.Default != nil {
				t.Errorf("%s: a default response where each error should be named", where)
			}
			var codes []string
			for code, resp := range op.Responses.Codes.FromOldest() {
				if code == "200" {
					continue
				}
				codes = append(codes, code)
				schema := resp.Content.GetOrZero("application/json")
				if health {
					continue // readyz's 503 is its health status
				}
				if schema == nil || !strings.HasSuffix(schema.Schema.GetReference(), "/Status") {
					t.Errorf("%s: %s is not application/json google.rpc.Status", where, code)
				}
			}
			if want, ok := wantErrors[op.OperationId]; ok && strings.Join(codes, " ") != strings.Join(want, " ") {
				t.Errorf("%s: error statuses %v, want %v", where, codes, want)
			}
			_, memo := op.Responses.Codes.GetOrZero("200").Content.Get("text/markdown")
			if memo != (op.OperationId == "AssessmentService_AssessCountry") {
				t.Errorf("%s: text/markdown answer %v", where, memo)
			}
		}
	}
}

func has[T any](_ T, ok bool) bool { return ok }
