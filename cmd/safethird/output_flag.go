package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Output formats.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// outputFlag is -o/--output, limited to the formats a command renders.
type outputFlag struct {
	value   string
	allowed []string
}

func addOutputFlag(fs *pflag.FlagSet, allowed ...string) *outputFlag {
	f := &outputFlag{value: allowed[0], allowed: allowed}
	fs.VarP(f, "output", "o", "output format: "+strings.Join(allowed, "|"))
	return f
}

func (f *outputFlag) String() string { return f.value }

func (f *outputFlag) Set(s string) error {
	if !slices.Contains(f.allowed, s) {
		return fmt.Errorf("must be one of %s", strings.Join(f.allowed, ", "))
	}
	f.value = s
	return nil
}

func (f *outputFlag) Type() string { return "format" }
