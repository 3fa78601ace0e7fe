// Package tokenfile reads a file of bearer tokens: one token a line, blank
// lines and lines starting with # ignored. A token is what a client sends
// in "authorization: Bearer <token>", so it must be printable ASCII without
// spaces (what an HTTP/2 header can carry), and long enough not to be
// guessed. Every error names the file and line and the rule broken, and
// never repeats a token.
package tokenfile

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/safethird/safethird/internal/safefile"
)

// Rules on a tokens file.
const (
	// MinLength is the shortest token accepted: 16 random characters are
	// beyond guessing, a short word is not.
	MinLength = 16
	// MaxLineLength bounds a line, so a runaway line is refused with its
	// number rather than read whole.
	MaxLineLength = 4096
	// MaxFileSize bounds the file: thousands of tokens.
	MaxFileSize = 1 << 20
)

// Read returns the tokens in the file at path, or an error for the first
// line that breaks a rule, as "path:line: rule".
func Read(path string) ([]string, error) {
	data, err := safefile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	var tokens []string
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLineLength {
			return nil, fmt.Errorf("%s:%d: the line is longer than %d characters", path, n+1, MaxLineLength)
		}
		line = bytes.Trim(line, " \t")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if err := check(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		tokens = append(tokens, string(line))
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no tokens in the file", path)
	}
	return tokens, nil
}

// check applies the rules to one token, naming the offending character by
// its position and code, never by the token.
func check(tok []byte) error {
	for i, c := range tok {
		switch {
		case c == ' ' || c == '\t':
			return errors.New("a token cannot contain spaces")
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("character %d is a control character (0x%02x); a token is printable ASCII", i+1, c)
		case c > 0x7e:
			return fmt.Errorf("character %d is not ASCII (byte 0x%02x; a byte-order mark or a non-printing character?); a token is printable ASCII", i+1, c)
		}
	}
	if len(tok) < MinLength {
		return fmt.Errorf("a token is at least %d characters, this one %d", MinLength, len(tok))
	}
	return nil
}
