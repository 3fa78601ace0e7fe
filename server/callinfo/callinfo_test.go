package callinfo

import (
	"strings"
	"testing"
)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"", false},
		{"a", true},
		{"with space and /:=", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"tab\there", false},
		{"del\x7f", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := validRequestID(tt.give); got != tt.want {
			t.Errorf("validRequestID(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
