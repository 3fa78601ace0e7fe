package assessment

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

func marshal(a *safethirdv1.Assessment) ([]byte, error) { return proto.Marshal(a) }

// The answer memo holds at most maxAnswerBytes of answers and their
// encodings, and at most maxMemo answers, however many it is given.
func TestAnswerMemoIsBounded(t *testing.T) {
	var m answerMemo
	long := make([]byte, 20_000)
	for i := range 3 * maxMemo {
		a := &safethirdv1.Assessment{CountryCode: "MX", Summary: string(long[:i%len(long)])}
		key := answerKey{baseKey: baseKey{asOf: fmt.Sprint(i)}, full: true}
		m.put(key, nil, nil, 0, a)
		if _, ok := m.encoding(a, "proto", marshal); !ok {
			t.Fatalf("answer %d, just kept, has no encoding", i)
		}
		if m.bytes > maxAnswerBytes || len(m.byKey) > maxMemo || len(m.encoded) != len(m.byKey) {
			t.Fatalf("after %d answers: %d bytes (at most %d), %d answers (at most %d), %d encoded", i+1, m.bytes, maxAnswerBytes, len(m.byKey), maxMemo, len(m.encoded))
		}
	}
}
