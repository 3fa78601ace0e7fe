// Package safefile reads files that an operator, or anyone with write access
// to a directory, controls: a dataset directory, a tokens file, a key. It
// reads only regular files, never blocks on opening one (a named pipe
// would block an ordinary open forever), never follows a symlink out of a
// directory it was given, and reads every file through a size limit, so a
// symlink to /dev/zero or a file of 100 MB costs nothing but an error.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// openFlags open without blocking: opening a FIFO with O_NONBLOCK returns
// at once, and fstat then refuses it. On regular files and directories
// O_NONBLOCK changes nothing.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// MaxDirEntries bounds the entries read from one directory, so a directory
// of a million files is refused rather than listed; a dataset's sources/
// holds two files a source, some 20,000 in a synthetic dataset of 20,000
// files (bench/syndata), and a manifest has room for 100,000.
const MaxDirEntries = 100_000

// TooLargeError reports a file over its size limit.
type TooLargeError struct {
	// Limit is the largest size allowed, in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than the %d-byte limit", e.Limit)
}

// NotRegularError reports a file that is not a regular file: a device, a
// named pipe, a socket or a directory.
type NotRegularError struct {
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return "not a regular file but " + describe(e.Mode)
}

// describe names a file type for an error message.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	default:
		return "an irregular file (" + m.String() + ")"
	}
}

// ReadFile reads the regular file at path, at most limit bytes. Symlinks
// are followed (a mounted Kubernetes secret is one), but what they lead to
// must be a regular file. Errors name path.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return readClose(f, path, limit)
}

// ReadFS reads the regular file name of fsys, at most limit bytes. It is
// safe on a Dir, and bounds the read on any other fs.FS.
func ReadFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return readClose(f, name, limit)
}

// readClose reads the open file named name through readOpen and closes it.
func readClose(f fs.File, name string, limit int64) ([]byte, error) {
	defer f.Close()
	b, err := readOpen(f, limit)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

// readOpen checks an open file with fstat and reads it through the limit.
// The size from fstat is only a first check: a file can grow while read,
// so the read itself stops one byte past the limit.
func readOpen(f fs.File, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{Mode: info.Mode()}
	}
	if info.Size() > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	b, err := readAll(io.LimitReader(f, limit+1), info.Size())
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return b, nil
}

// readAll is io.ReadAll with room for size bytes from the start: a file
// read in one read(2) and the one that finds its end, where io.ReadAll,
// starting at 512 bytes, reads a record of a few KB in several and copies
// it as it grows. A file that grew since fstat is read whole all the same.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // room for more: the file grew
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Dir is a directory tree read safely, as an fs.FS: a name that leads out
// of the tree (through "..", or a symlink pointing outside) is refused, and
// Open returns only regular files and directories, checked with fstat
// after a non-blocking open. Symlinks inside the tree are followed.
type Dir struct {
	root *os.Root
	path string
}

var (
	_ fs.FS        = (*Dir)(nil)
	_ fs.ReadDirFS = (*Dir)(nil)
)

// dataLink is the symlink through which Kubernetes publishes a volume's
// content: it swaps the whole tree at once by retargeting "..data".
const dataLink = "..data"

// OpenDir opens the directory tree at dir as it is now: dir is resolved
// through its symlinks once, and when it holds a Kubernetes "..data"
// symlink, the tree is the directory that link points to. A Dir reads one
// tree from start to end, so a symlink swapped while it is read (an
// atomic deploy) is seen entirely or not at all.
func OpenDir(dir string) (*Dir, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	if info, err := os.Lstat(filepath.Join(real, dataLink)); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(filepath.Join(real, dataLink))
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", filepath.Join(dir, dataLink), err)
		}
		if !inside(real, target) {
			return nil, fmt.Errorf("%s leads out of %s", filepath.Join(dir, dataLink), dir)
		}
		real = target
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, err
	}
	return &Dir{root: root, path: real}, nil
}

// inside reports whether path is dir or below it; both are resolved paths.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Path returns the directory the tree was read from, symlinks resolved.
func (d *Dir) Path() string { return d.path }

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Open opens name, a slash-separated path inside the tree, for reading. It
// never blocks, and refuses anything but a regular file or a directory.
func (d *Dir) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := d.root.OpenFile(filepath.FromSlash(name), openFlags, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: d.explain(name, err)}
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if m := info.Mode(); !m.IsRegular() && !m.IsDir() {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: &NotRegularError{Mode: m}}
	}
	return statted{f, info}, nil
}

// statted is a file opened by Dir.Open with the fstat Open checked it by:
// Stat returns it, so a reader (ReadFS, fs.Stat) does not make the same
// system call again, one of five a file costs a load of thousands. The
// size it gives is the one at open; readOpen reads to the end anyway.
type statted struct {
	*os.File
	info fs.FileInfo
}

func (f statted) Stat() (fs.FileInfo, error) { return f.info, nil }

// explain puts os.Root's refusals into words: a symlink out of the tree,
// or a socket (which open(2) refuses with ENXIO). Other errors pass
// unchanged.
func (d *Dir) explain(name string, err error) error {
	info, lerr := d.root.Lstat(filepath.FromSlash(name))
	if lerr != nil || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err // the caller names the file
	}
	switch m := info.Mode(); {
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("a symlink that leads out of the directory (%w)", err)
	case !m.IsRegular() && !m.IsDir():
		return &NotRegularError{Mode: m}
	}
	return err
}

// ReadDir lists the directory name, sorted by name; a directory with more
// than MaxDirEntries entries is refused.
func (d *Dir) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := dir.ReadDir(MaxDirEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if len(entries) > MaxDirEntries {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("more than %d entries", MaxDirEntries)}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}
