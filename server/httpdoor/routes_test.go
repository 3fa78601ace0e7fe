package httpdoor

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The REST routes with a body, and the fields of their paths that the body
// could repeat, come from the protos' google.api.http rules.
func TestBodyRoutes(t *testing.T) {
	routes, err := bodyRoutes(safethirdv1.AssessmentService_ServiceDesc.ServiceName, safethirdv1.CatalogService_ServiceDesc.ServiceName)
	if err != nil {
		t.Fatal(err)
	}
	var templates []string
	for _, r := range routes {
		templates = append(templates, r.template)
	}
	want := []string{"/v1/countries/{country_code}:assess", "/v1/countries:batchAssess", "/v1/routes:assess", "/v1/countries/{country_code}:timeline"}
	if !cmp.Equal(templates, want) || len(routes[0].fields) != 1 || len(routes[1].fields)+len(routes[2].fields) != 0 || len(routes[3].fields) != 1 {
		t.Fatalf("routes = %v, want %v, the first and last with a field in their paths", templates, want)
	}
	for path, want := range map[string]string{"/v1/countries/MX:assess": "MX", "/v1/countries/m%20x:assess": "m%20x", "/v1/countries/MX": "", "/v1/countries/a/b:assess": ""} {
		got := ""
		if m := routes[0].path.FindStringSubmatch(path); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s: country_code %q, want %q", path, got, want)
		}
	}
}
