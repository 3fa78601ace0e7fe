package main

import (
	"fmt"
	"strings"

	"github.com/safethird/safethird/internal/isocode"
)

// countryCode normalizes a country code the user typed. Only the shape is
// checked here; whether the code is assigned is the server's to say.
func countryCode(s string) (string, error) {
	up, ok := isocode.Normalize(strings.TrimSpace(s))
	if !ok {
		return "", fmt.Errorf("%q is not an ISO 3166-1 alpha-2 code: want two letters, such as MX", s)
	}
	return up, nil
}

// countryFlag is a pflag.Value for one country code.
type countryFlag struct{ code string }

func (f *countryFlag) String() string { return f.code }

func (f *countryFlag) Set(s string) error {
	c, err := countryCode(s)
	if err != nil {
		return err
	}
	f.code = c
	return nil
}

func (f *countryFlag) Type() string { return "CC" }

// countryListFlag is a repeatable, comma-separated list of country codes.
type countryListFlag struct{ codes []string }

func (f *countryListFlag) String() string { return strings.Join(f.codes, ",") }

func (f *countryListFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		c, err := countryCode(part)
		if err != nil {
			return err
		}
		f.codes = append(f.codes, c)
	}
	return nil
}

func (f *countryListFlag) Type() string { return "CC[,CC]" }
