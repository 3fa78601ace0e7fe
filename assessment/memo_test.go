package assessment_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/internal/answertest"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func marshal(a *pb.Assessment) ([]byte, error) { return proto.Marshal(a) }

// A memoized answer, and the encoding the Engine keeps of it, must be byte
// for byte the answer a fresh Engine builds for the same request: for
// every curated country, framework, date and view, without an applicant
// and for each of a set of applicants asked in turn, twice over, so the
// second pass reads everything from the memo.
func TestMemoizedAnswersAreFreshOnes(t *testing.T) {
	eng := assessment.New(engine(t).Snapshot())
	snap := eng.Snapshot()
	reqs := answertest.Requests(snap)
	fresh := make([][]byte, len(reqs))
	for i, req := range reqs {
		want, err := assessment.New(snap).AssessCountry(req, today)
		if err != nil {
			t.Fatalf("fresh %v: %v", req, err)
		}
		if fresh[i], err = proto.Marshal(want); err != nil {
			t.Fatal(err)
		}
	}
	encoded := 0
	for pass := range 2 {
		for i, req := range reqs {
			got, err := eng.AssessCountry(req, today)
			if err != nil {
				t.Fatalf("%v: %v", req, err)
			}
			wantBytes := fresh[i]
			gotBytes, err := proto.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotBytes, wantBytes) {
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
