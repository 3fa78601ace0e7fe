package safefile_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/safethird/safethird/internal/safefile"
)

// tree makes a directory with a regular file, a FIFO, a socket, symlinks in
// and out, and a large file.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sub/file.yaml", "id: x\n")
	write("big.yaml", strings.Repeat("x", 2000))
	if err := syscall.Mkfifo(filepath.Join(dir, "sub", "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"sub/zero.yaml":   "/dev/zero",
		"sub/passwd.yaml": "/etc/passwd",
		"sub/up.yaml":     "../../outside.yaml",
		"sub/in.yaml":     "file.yaml",
		"sub/pipe.yaml":   "fifo.yaml",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	lis, err := net.Listen("unix", filepath.Join(dir, "sub", "sock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	return dir
}

// within fails the test if f does not return within a few seconds: a
// blocked open would hang the test otherwise.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocked for 10s")
	}
}

func TestDirOpen(t *testing.T) {
	dir := tree(t)
	d, err := safefile.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		give    string
		want    string // content, when the read succeeds
		wantErr string
	}{
		{give: "sub/file.yaml", want: "id: x\n"},
		{give: "sub/in.yaml", want: "id: x\n"},
		{give: "sub/fifo.yaml", wantErr: "named pipe"},
		{give: "sub/pipe.yaml", wantErr: "named pipe"},
		{give: "sub/sock.yaml", wantErr: "socket"},
		{give: "sub/zero.yaml", wantErr: "symlink that leads out of the directory"},
		{give: "sub/passwd.yaml", wantErr: "symlink that leads out of the directory"},
		{give: "sub/up.yaml", wantErr: "symlink that leads out of the directory"},
		{give: "../etc/passwd", wantErr: "invalid argument"},
		{give: "big.yaml", wantErr: "larger than the 1000-byte limit"},
		{give: "sub", wantErr: "a directory"},
		{give: "missing.yaml", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			within(t, func() {
				got, err := safefile.ReadFS(d, tt.give, 1000)
				switch {
				case tt.wantErr == "" && err != nil:
					t.Errorf("ReadFS(%s) = %v", tt.give, err)
				case tt.wantErr == "" && string(got) != tt.want:
					t.Errorf("ReadFS(%s) = %q, want %q", tt.give, got, tt.want)
				case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
					t.Errorf("ReadFS(%s) error = %v, want one with %q", tt.give, err, tt.wantErr)
				case tt.wantErr != "" && !strings.Contains(err.Error(), tt.give):
					t.Errorf("ReadFS(%s) error %q does not name the file", tt.give, err)
				}
			})
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := tree(t)
	tests := []struct {
		give    string
		wantErr string
	}{
		{give: "sub/file.yaml"},
		{give: "sub/in.yaml"}, // a symlink to a regular file is fine for one file
		{give: "sub/fifo.yaml", wantErr: "named pipe"},
		{give: "sub/zero.yaml", wantErr: "character device"},
		{give: "sub/sock.yaml", wantErr: "no such device or address"}, // open(2) refuses a socket: ENXIO
		{give: "big.yaml", wantErr: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			within(t, func() {
				_, err := safefile.ReadFile(filepath.Join(dir, tt.give), 1000)
				if tt.wantErr == "" {
					if err != nil {
						t.Errorf("ReadFile = %v", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ReadFile error = %v, want one with %q", err, tt.wantErr)
				}
			})
		})
	}
}

// A device reached through a symlink is refused by fstat, not read: a
// read of /dev/zero through a limit would still cost the limit.
func TestReadFileDeviceIsNotRead(t *testing.T) {
	_, err := safefile.ReadFile("/dev/zero", 1<<40)
	var nr *safefile.NotRegularError
	if !errors.As(err, &nr) {
		t.Fatalf("ReadFile(/dev/zero) = %v, want a *NotRegularError", err)
	}
}

func TestReadDir(t *testing.T) {
	d, err := safefile.OpenDir(tree(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	entries, err := fs.ReadDir(d, "sub")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "fifo.yaml file.yaml in.yaml passwd.yaml pipe.yaml sock.yaml up.yaml zero.yaml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("ReadDir(sub) = %s, want %s", got, want)
	}
	if _, err := fs.ReadDir(d, "sub/fifo.yaml"); err == nil {
		t.Error("ReadDir of a FIFO succeeded")
	}
}

// A Kubernetes volume: the tree is "..data", a symlink to a timestamped
// directory, and top-level symlinks into it. OpenDir reads the target of
// "..data" once, so a swap after it is not seen by that Dir.
func TestOpenDirKubernetesVolume(t *testing.T) {
	mount := t.TempDir()
	for _, rev := range []string{"..2024_01_01", "..2024_01_02"} {
		if err := os.MkdirAll(filepath.Join(mount, rev, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mount, rev, "sub", "file.yaml"), []byte(rev), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("..2024_01_01", filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/sub", filepath.Join(mount, "sub")); err != nil {
		t.Fatal(err)
	}
	d, err := safefile.OpenDir(mount)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink("..2024_01_02", filepath.Join(mount, "..data.tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(mount, "..data.tmp"), filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	got, err := safefile.ReadFS(d, "sub/file.yaml", 100)
	if err != nil || string(got) != "..2024_01_01" {
		t.Errorf("after the swap, the open Dir read %q, %v; want the tree it opened, ..2024_01_01", got, err)
	}
	d2, err := safefile.OpenDir(mount)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if got, err := safefile.ReadFS(d2, "sub/file.yaml", 100); err != nil || string(got) != "..2024_01_02" {
		t.Errorf("a Dir opened after the swap read %q, %v; want ..2024_01_02", got, err)
	}
}

func TestOpenDirRefusesDataLinkOutside(t *testing.T) {
	mount := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if _, err := safefile.OpenDir(mount); err == nil || !strings.Contains(err.Error(), "leads out of") {
		t.Errorf("OpenDir = %v, want a refusal of ..data leading out", err)
	}
}
