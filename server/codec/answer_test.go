package codec

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// batchJSON frames a batch item that holds only an answer as the stored
// JSON of AssessCountry's response around it: the two must be one JSON.
func TestBatchItemIsResponseJSON(t *testing.T) {
	a := &safethirdv1.Assessment{CountryCode: "MX", CountryName: "a \"quoted\" name", AsOf: "2020-01-01"}
	item, err := protojson.Marshal(&safethirdv1.BatchAssessResult{Result: &safethirdv1.BatchAssessResult_Assessment{Assessment: a}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := protojson.Marshal(&safethirdv1.AssessCountryResponse{Assessment: a})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(item, resp) {
		t.Fatalf("a batch item's JSON %s is not its response's %s", item, resp)
	}
}
