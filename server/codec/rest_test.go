package codec

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A protojson error keeps its position, rule and field name, never the
// value the caller sent.
func TestBodyError(t *testing.T) {
	tests := []struct {
		give      string
		wantField string
		wantMsg   string
	}{
		{`{"as_off":"2019-01-01"}`, "as_off", `request body is not the JSON of the request message at line 1, column 2: unknown field "as_off"`},
		{`{"applicant":{"age":"sixteen"}}`, "age", `request body is not the JSON of the request message at line 1, column 21: invalid value for the int32 field "age"`},
		{`{"view":"SECRET_VALUE"}`, "view", `request body is not the JSON of the request message at line 1, column 9: invalid value for the enum field "view"`},
		{`{"as_of":"a","as_of":"b"}`, "as_of", `request body is not the JSON of the request message at line 1, column 14: duplicate field "as_of"`},
		{`{"as_of": secret}`, "request", `request body is not the JSON of the request message at line 1, column 11: malformed JSON`},
	}
	for _, tt := range tests {
		err := protojson.Unmarshal([]byte(tt.give), &safethirdv1.AssessCountryRequest{})
		if err == nil {
			t.Fatalf("%s decoded", tt.give)
		}
		got := bodyError(err)
		if got.Field != tt.wantField || got.Msg != tt.wantMsg {
			t.Errorf("bodyError(%s) = %q, %q; want %q, %q", tt.give, got.Field, got.Msg, tt.wantField, tt.wantMsg)
		}
		for _, secret := range []string{"sixteen", "SECRET", "secret", "2019"} {
			if strings.Contains(got.Msg, secret) {
				t.Errorf("bodyError(%s) repeats the value: %q", tt.give, got.Msg)
			}
		}
	}
}
