package service

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/rpcstatus"
)

// AIP-158 page sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageToken is what a next_page_token encodes, as base64url JSON; callers
// treat it as opaque. Pages are keyed by the last key returned rather than
// an offset, so a reload between pages neither repeats nor skips an item;
// the revision keeps the pages of one listing on one Snapshot while the
// server still holds it.
type pageToken struct {
	// Listing names the method and its filters; a token is valid only for
	// the listing that issued it.
	Listing string `json:"l"`
	// Revision is the dataset revision of the first page.
	Revision string `json:"r"`
	// After is the key of the last item returned.
	After string `json:"a"`
}

func (t pageToken) encode() string {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err) // three strings always marshal
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// errPageToken is a page_token that was not issued for the listing.
var errPageToken = &rpcstatus.RequestError{
	Reason: safethirdv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN,
	Field:  "page_token", Rule: "was not issued by a previous call to this method with the same filters",
	Msg: "invalid request: page_token: was not issued by a previous call to this method with the same filters",
}

// pageRequest is a validated request for one page.
type pageRequest struct {
	listing string
	size    int
	token   pageToken // zero for the first page
}

// parsePage reads page_size (0 or more: the field rules say so) and
// page_token for listing.
func parsePage(listing string, size int32, token string) (pageRequest, error) {
	pr := pageRequest{listing: listing, size: int(size)}
	switch {
	case size == 0:
		pr.size = defaultPageSize
	case size > maxPageSize:
		pr.size = maxPageSize // AIP-158: larger sizes are coerced, not refused
	}
	if token == "" {
		return pr, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || json.Unmarshal(b, &pr.token) != nil || pr.token.Listing != listing || pr.token.After == "" {
		return pr, errPageToken
	}
	return pr, nil
}

// paginate returns the page of items (sorted by key) after the token's
// key, and the token for the next page, empty on the last page.
func paginate[T any](items []T, key func(T) string, pr pageRequest, revision string) ([]T, string) {
	start := 0
	if pr.token.After != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > pr.token.After })
	}
	end := min(start+pr.size, len(items))
	// A copy: the response must not alias the Snapshot's own slice.
	page := slices.Clone(items[start:end])
	if end == len(items) {
		return page, ""
	}
	return page, pageToken{Listing: pr.listing, Revision: revision, After: key(items[end-1])}.encode()
}
