package httpdoor

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/safethird/safethird/memo"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// memoOr answers POST /v1/countries/{country_code}:assess with the
// brief-ready Markdown memo, the one `safethird assess -o markdown`
// writes, when the client prefers text/markdown to JSON. The call goes
// through next as a JSON call, so auth, limits, logging, metrics and
// errors are those of any call, and the memo is rendered from its answer;
// an error stays JSON. Every other request goes to next untouched.
func (d *Door) memoOr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isAssessCountryPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept")
		if negotiate(r.Header.Values("Accept")) != markdownType {
			next.ServeHTTP(w, r)
			return
		}
		inner := r.Clone(r.Context())
		inner.Header.Set("Accept", jsonType)
		var rec responseBuffer
		next.ServeHTTP(&rec, inner)
		if rec.code != http.StatusOK {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.code)
			_, _ = w.Write(rec.body.Bytes()) // a failed write is the client gone
			return
		}
		doc, err := d.renderMemo(rec.body.Bytes())
		if err != nil {
			d.writeStatus(w, d.errs.Status(r.Context(), err))
			return
		}
		w.Header().Set("Content-Type", markdownType+"; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(doc) // a failed write is the client gone
	})
}

// renderMemo renders the memo from the JSON of an AssessCountryResponse,
// naming the law by the framework of the dataset revision the answer
// rests on, as the CLI names it from GetFramework.
func (d *Door) renderMemo(answer []byte) ([]byte, error) {
	var resp safethirdv1.AssessCountryResponse
	if err := protojson.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("memo: decode the answer: %w", err)
	}
	a := resp.GetAssessment()
	f := d.framework(a.GetDatasetRevision(), a.GetFrameworkId())
	var b bytes.Buffer
	if err := memo.Assessment(&b, a, f); err != nil {
		return nil, fmt.Errorf("memo: render: %w", err)
	}
	return b.Bytes(), nil
}

// isAssessCountryPath reports whether path is /v1/countries/{code}:assess.
func isAssessCountryPath(path string) bool {
	code, ok := strings.CutPrefix(path, restPrefix+"countries/")
	if !ok {
		return false
	}
	code, ok = strings.CutSuffix(code, ":assess")
	return ok && code != "" && !strings.Contains(code, "/")
}

// negotiate picks JSON or Markdown from Accept headers: the type of the
// most preferred clause that names one (q=0 refuses it); JSON when none
// does, or when there is no Accept header.
func negotiate(accept []string) string {
	for _, c := range goautoneg.ParseAccept(strings.Join(accept, ",")) {
		if c.Q <= 0 {
			continue
		}
		switch {
		case c.Type == "text" && (c.SubType == "markdown" || c.SubType == "*"):
			return markdownType
		case c.Type == "application" && c.SubType == "json", c.Type == "*", c.Type == "application" && c.SubType == "*":
			return jsonType
		}
	}
	return jsonType
}

// responseBuffer is an http.ResponseWriter that keeps the response.
type responseBuffer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *responseBuffer) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

// Flush does nothing: vanguard needs a Flusher, and the buffer holds everything anyway.
func (b *responseBuffer) Flush() {}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
