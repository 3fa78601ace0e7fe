package assessment_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/internal/answertest"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func marshal(a *pb.Assessment) ([]byte, error) { return proto.Marshal(a) }

// freshEncodings are the proto encodings of what a fresh Engine answers
// to each of reqs, by ask.
func freshEncodings[R proto.Message](t *testing.T, reqs []R, ask func(R) (proto.Message, error)) [][]byte {
	t.Helper()
	fresh := make([][]byte, len(reqs))
	for i, req := range reqs {
		want, err := ask(req)
		if err != nil {
			t.Fatalf("fresh %v: %v", req, err)
		}
		if fresh[i], err = proto.Marshal(want); err != nil {
			t.Fatal(err)
		}
	}
	return fresh
}

// answerBytes is the proto encoding of got, the answer to req; err is the
// answer's error, which fails t.
func answerBytes(t *testing.T, req, got proto.Message, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("%v: %v", req, err)
	}
	b, err := proto.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A memoized answer, and the encoding the Engine keeps of it, must be byte
// for byte the answer a fresh Engine builds for the same request: for
// every curated country, framework, date and view, without an applicant
// and for each of a set of applicants asked in turn, twice over, so the
// second pass reads everything from the memo.
func TestMemoizedAnswersAreFreshOnes(t *testing.T) {
	eng := assessment.New(engine(t).Snapshot())
	snap := eng.Snapshot()
	reqs := answertest.Requests(snap)
	fresh := freshEncodings(t, reqs, func(req *pb.AssessCountryRequest) (proto.Message, error) {
		return assessment.New(snap).AssessCountry(req, today)
	})
	encoded := 0
	for pass := range 2 {
		for i, req := range reqs {
			got, err := eng.AssessCountry(req, today)
			wantBytes := fresh[i]
			if !bytes.Equal(answerBytes(t, req, got, err), wantBytes) {
				t.Fatalf("pass %d, %v: the memoized answer differs from a fresh one", pass+1, req)
			}
			enc, ok := eng.Encoding(got, "proto", marshal)
			switch {
			case ok && !bytes.Equal(enc, wantBytes):
				t.Fatalf("pass %d, %v: the stored encoding differs from a fresh answer's", pass+1, req)
			case !ok:
				t.Fatalf("pass %d, %v: the answer was not memoized", pass+1, req)
			case ok:
				encoded++
			}
		}
	}
	t.Logf("%d requests, twice; %d answers sent from a stored encoding", len(reqs), encoded)
}

// A route's answers are memoized too, under its last leg: each must be
// byte for byte the answer a fresh Engine builds for the same route, for
// every route, framework, date and view and each applicant in turn, twice
// over. A route asked again at once is answered from the memo whole, and
// the stored encoding of each answer is a fresh answer's. (Asked in turn,
// an answer may have left the memo by the time its route's last is kept:
// the memo starts again empty when full; the server then encodes it.)
func TestMemoizedRouteAnswersAreFreshOnes(t *testing.T) {
	eng := assessment.New(engine(t).Snapshot())
	snap := eng.Snapshot()
	reqs := answertest.Routes(snap)
	fresh := freshEncodings(t, reqs, func(req *pb.AssessRouteRequest) (proto.Message, error) {
		return assessment.New(snap).AssessRoute(req, today)
	})
	answers := 0
	for pass := range 2 {
		for i, req := range reqs {
			for again := range 2 {
				got, err := eng.AssessRoute(req, today)
				if !bytes.Equal(answerBytes(t, req, got, err), fresh[i]) {
					t.Fatalf("pass %d, %v: the memoized route differs from a fresh one", pass+1, req)
				}
				if again == 0 {
					continue
				}
				for j, a := range got.GetAssessments() {
					want, err := proto.Marshal(a)
					if err != nil {
						t.Fatal(err)
					}
					enc, ok := eng.Encoding(a, "proto", marshal)
					if !ok {
						t.Fatalf("pass %d, %v asked again: answer %d was not memoized", pass+1, req, j)
					}
					if !bytes.Equal(enc, want) {
						t.Fatalf("pass %d, %v: the stored encoding of answer %d differs from a fresh answer's", pass+1, req, j)
					}
					answers++
				}
			}
		}
	}
	t.Logf("%d routes, twice; %d answers sent from a stored encoding", len(reqs), answers)
}

// An Engine keeps the protos' verdict on each request it has seen: a
// request asked again gets the errors a fresh Engine gives it, however
// often, the dataset's checks added to the rules' each time without
// piling up.
func TestRuleVerdictsAreFreshOnes(t *testing.T) {
	snap := engine(t).Snapshot()
	eng := assessment.New(snap)
	tests := []struct {
		name string
		give *pb.AssessCountryRequest
	}{
		{"valid", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}},
		{"rules", &pb.AssessCountryRequest{CountryCode: "M1", AsOf: "2024-02-30", Applicant: &pb.Applicant{Age: proto.Int32(-1)}}},
		{"rules and dataset", &pb.AssessCountryRequest{CountryCode: "ZZ", AsOf: "2024-02-30",
			Applicant: &pb.Applicant{NationalityCode: proto.String("QQ"), VisaFreeCountries: &pb.CountryList{CountryCodes: []string{"XA", "1"}}}}},
		{"dataset", &pb.AssessCountryRequest{CountryCode: "ZZ", AsOf: "2024-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, want := assessment.New(snap).AssessCountry(tt.give, today)
			if (want == nil) != (tt.name == "valid") {
				t.Fatalf("a fresh Engine: %v", want)
			}
			for range 3 {
				_, err := eng.AssessCountry(tt.give, today)
				if diff := cmp.Diff(want, err); diff != "" {
					t.Fatalf("error (-fresh +kept):\n%s", diff)
				}
			}
		})
	}
}
