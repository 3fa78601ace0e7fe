package isocode_test

import (
	"testing"

	"github.com/safethird/safethird/internal/isocode"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		give, want string
		ok         bool
	}{
		{"MX", "MX", true},
		{"mx", "MX", true},
		{"sV", "SV", true},
		{"ſv", "", false},      // LATIN SMALL LETTER LONG S upper-cases to S
		{"ıd", "", false},      // LATIN SMALL LETTER DOTLESS I upper-cases to I
		{"\u212aR", "", false}, // KELVIN SIGN lower-cases to k
		{"ＭＸ", "", false},      // fullwidth letters
		{"M1", "", false},
		{"M", "", false},
		{"MEX", "", false},
		{"", "", false},
		{"M\x00", "", false},
	}
	for _, tt := range tests {
		got, ok := isocode.Normalize(tt.give)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.ok)
		}
	}
}
