package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/safethird/safethird/internal/safefile"
)

// maxWatchDepth bounds the directory walk, so a symlink loop cannot make
// it endless; a dataset is two levels deep.
const maxWatchDepth = 8

// Watch polls dir every interval and reloads when its fingerprint has
// changed and then held still for one interval, so a change being written
// file by file is loaded once, when complete, rather than refused halfway.
// It returns when ctx is done.
func (s *Store) Watch(ctx context.Context, dir string, interval time.Duration, loaded string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := loaded
	failing := false // the fingerprint failed at the last tick
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp, err := Fingerprint(dir)
		if err != nil {
			// A directory mid-replace can vanish for a moment: try next
			// tick. An error that lasts (a directory too large to walk)
			// would leave reloads to signals without a word, so the first
			// of each run of failures is logged, once: the errors of one
			// run can differ (a directory removed mid-walk fails the walk,
			// then the lookup), and are one event to an operator.
			if !failing {
				failing = true
				s.logger.Warn("dataset watch: cannot see the directory, retrying each interval; reload by signal meanwhile", zap.Error(err))
			}
			continue
		}
		failing = false
		if fp != loaded && fp == seen {
			loaded = fp
			s.ReloadAndLog("watch")
		}
		seen = fp
	}
}

// maxWatchEntries bounds the entries the fingerprint lists, so a
// directory of millions does not cost a walk every interval. It is the
// loader's bound on one directory's entries, about as many files as a
// manifest can list: a dataset a load accepts can be watched (20,000, the
// bound before, left a 21,667-file dataset to signals alone).
const maxWatchEntries = safefile.MaxDirEntries

// Fingerprint hashes what a load would see, without opening a file: the
// directory dir resolves to (so swapping a symlink to the dataset shows),
// then the names, types, sizes, modes and modification times of everything
// under it. Symlinks inside are hashed as their targets, not followed: a
// Kubernetes volume's ..data swap changes a target and adds the new tree,
// and a symlink out of the dataset (to /, say) costs nothing.
func Fingerprint(dir string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	lines := []string{"root\t" + root}
	if err := walk(root, "", 0, &lines); err != nil {
		return "", err
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func walk(root, rel string, depth int, lines *[]string) error {
	if depth > maxWatchDepth {
		return nil
	}
	entries, err := os.ReadDir(filepath.Join(root, rel))
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(root, rel), err)
	}
	if len(*lines)+len(entries) > maxWatchEntries {
		return fmt.Errorf("%s holds more than %d entries", root, maxWatchEntries)
	}
	for _, e := range entries {
		name := filepath.Join(rel, e.Name())
		info, err := e.Info() // lstat: a symlink is not followed
		if err != nil {
			*lines = append(*lines, name+"\tunreadable")
			continue
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(filepath.Join(root, name))
			*lines = append(*lines, name+"\t-> "+target)
		case info.IsDir():
			*lines = append(*lines, name+"/")
			if err := walk(root, name, depth+1, lines); err != nil {
				return err
			}
		default:
			*lines = append(*lines, fmt.Sprintf("%s\t%d\t%v\t%d", name, info.Size(), info.Mode(), info.ModTime().UnixNano()))
		}
	}
	return nil
}
