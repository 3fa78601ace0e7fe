package tokenfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/internal/tokenfile"
)

const good = "0123456789abcdef-good"

func TestRead(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []string
		wantErr       string
	}{
		{"comments, blanks, CRLF, surrounding spaces", "# ops\n\n" + good + "\r\n  " + good + "-2\t\n# end", []string{good, good + "-2"}, ""},
		{"one character", "# ops\nx\n", nil, ":2: a token is at least 16 characters, this one 1"},
		{"byte-order mark", "\ufeff" + good + "\n", nil, ":1: character 1 is not ASCII (byte 0xef"},
		{"NUL", good + "\x00\n", nil, ":1: character 22 is a control character (0x00)"},
		{"escape", good + "\x1b[0m\n", nil, ":1: character 22 is a control character (0x1b)"},
		{"non-breaking space", good + "\u00a0\n", nil, ":1: character 22 is not ASCII"},
		{"space inside", "0123456789 abcdef\n", nil, ":1: a token cannot contain spaces"},
		{"70,000-character line", "# ops\n" + strings.Repeat("a", 70_000) + "\n", nil, ":2: the line is longer than 4096 characters"},
		{"no token", "# nothing\n\n", nil, ": no tokens in the file"},
		{"empty", "", nil, ": no tokens in the file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "tokens-"+string(rune('a'+i)))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := tokenfile.Read(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("tokens (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), path+tt.wantErr) {
				t.Fatalf("error = %v, want %s%s...", err, path, tt.wantErr)
			}
			if strings.Contains(err.Error(), "0123456789") || strings.Contains(err.Error(), "aaaa") {
				t.Errorf("the error repeats the token: %v", err)
			}
		})
	}
}

// A tokens file that is a FIFO or a device is refused at once, not read.
func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tokens")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		if _, err := tokenfile.Read(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Read(%s) = %v, want a refusal", path, err)
		}
	}
}
