package assessment

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxShapes bounds the sets of facts read kept for one question: each is
// a path the evaluation took, and a question has few.
const maxShapes = 16

// answerMemo holds whole answers, and the encoding of each once asked
// for, bounded by maxMemo answers and by maxAnswerBytes of them; past
// either it starts again empty. Answers to applicants are kept under the
// values of the facts they read, never the applicant's other facts, in
// memory only, for the Engine's one Snapshot. It is safe for concurrent
// use; the answers it holds are shared, read-only.
type answerMemo struct {
	mu    sync.Mutex
	byKey map[answerKey]*safethirdv1.Assessment
	// shapes holds, for a question to an applicant, each set of facts
	// read by an answer kept for it.
	shapes map[answerKey][]facts
	// encoded holds every answer of byKey, with the encodings made of it,
	// by format; nil until the first.
	encoded map[*safethirdv1.Assessment]map[string][]byte
	// bytes is the encoded size of the answers held, and of the encodings.
	bytes int
}

// get returns the answer kept for key and, when key is a question to an
// applicant, for an applicant who agrees with app on the facts it read.
// enc is app's encodeFacts when the caller has it, else nil.
func (m *answerMemo) get(key answerKey, app *safethirdv1.Applicant, enc []byte) (*safethirdv1.Assessment, bool) {
	m.mu.Lock()
	a, ok := m.byKey[key]
	shapes := m.shapes[key]
	m.mu.Unlock()
	if !key.applicant || len(shapes) == 0 {
		return a, ok
	}
	if enc == nil {
		var err error
		if enc, err = encodeFacts(app); err != nil {
			return nil, false
		}
	}
	for _, read := range shapes {
		k := key
		k.read, k.values = read, string(canonical(enc, read))
		m.mu.Lock()
		a, ok := m.byKey[k]
		m.mu.Unlock()
		if ok {
			return a, true
		}
	}
	return nil, false
}

// put keeps a, the answer to key that read the facts read of app (whose
// encodeFacts is enc, or nil when the caller has not made it). Two
// callers may both build a missing answer; they build the same one, and
// the first kept stays.
func (m *answerMemo) put(key answerKey, app *safethirdv1.Applicant, enc []byte, read facts, a *safethirdv1.Assessment) {
	if key.applicant {
		if enc == nil {
			var err error
			if enc, err = encodeFacts(app); err != nil {
				return
			}
		}
		key.read, key.values = read, string(canonical(enc, read))
	}
	size := proto.Size(a) + len(key.values)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byKey[key]; ok {
		return
	}
	if m.byKey == nil || len(m.byKey) >= maxMemo || m.bytes+size > maxAnswerBytes {
		m.byKey, m.shapes, m.encoded, m.bytes = map[answerKey]*safethirdv1.Assessment{}, map[answerKey][]facts{}, map[*safethirdv1.Assessment]map[string][]byte{}, 0
	}
	if key.applicant {
		q := key.question()
		shapes := m.shapes[q]
		if !slices.Contains(shapes, read) {
			if len(shapes) >= maxShapes {
				return
			}
			m.shapes[q] = append(shapes, read)
		}
	}
	m.byKey[key] = a
	m.encoded[a] = nil
	m.bytes += size
}

func (m *answerMemo) encoding(a *safethirdv1.Assessment, format string, encode func(*safethirdv1.Assessment) ([]byte, error)) ([]byte, bool) {
	m.mu.Lock()
	encs, ok := m.encoded[a]
	enc := encs[format]
	m.mu.Unlock()
	if !ok || enc != nil {
		return enc, ok
	}
	// Encoded outside the lock: two callers may both encode it, to the
	// same bytes. An answer that left the memo meanwhile is still a
	// memoized answer's encoding, for this caller.
	enc, err := encode(a)
	if err != nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Past the bound, the encoding serves this caller and is not kept.
	if encs, held := m.encoded[a]; held && encs[format] == nil && m.bytes+len(enc) <= maxAnswerBytes {
		if encs == nil {
			encs = map[string][]byte{}
			m.encoded[a] = encs
		}
		encs[format] = enc
		m.bytes += len(enc)
	}
	return enc, true
}
