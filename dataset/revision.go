package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
)

// revision hashes the canonical encoding of the records: each record's
// deterministic protobuf encoding, framed by its kind and id, and each
// source's archived text, framed by its path, in order of those keys, then
// the ISO country list as code and name pairs. File order, YAML formatting
// and comments do not change it; any change of content does, a text read
// again included, since the archive is what the quotes are checked against.
func revision(records map[string][]*record, texts map[string]string, iso []isoCountry) string {
	type entry struct {
		key  string
		data []byte
	}
	var entries []entry
	opts := proto.MarshalOptions{Deterministic: true}
	for dir, rs := range records {
		for _, r := range rs {
			data, err := opts.Marshal(r.msg)
			if err != nil {
				// Only messages the loader parsed reach here, so this cannot
				// happen; hash the failure rather than hide it.
				data = []byte("marshal error: " + err.Error())
			}
			entries = append(entries, entry{dir + "/" + r.id, data})
		}
	}
	for id, text := range texts {
		entries = append(entries, entry{"sources/" + id + textSuffix, []byte(text)})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	var countries []string
	for _, c := range iso {
		countries = append(countries, c.Alpha2+"\t"+c.Name)
	}
	slices.Sort(countries)
	entries = append(entries, entry{isoFile, []byte(strings.Join(countries, "\n"))})
	h := sha256.New()
	var n [8]byte
	for _, e := range entries {
		for _, part := range [][]byte{[]byte(e.key), e.data} {
			binary.BigEndian.PutUint64(n[:], uint64(len(part)))
			h.Write(n[:])
			h.Write(part)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
