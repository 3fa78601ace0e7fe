package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// maxWatchDepth bounds the directory walk, so a symlink loop cannot make
// it endless; a dataset is two levels deep.
const maxWatchDepth = 8

// watch polls dir every interval and reloads when its fingerprint has
// changed and then held still for one interval, so a change being written
// file by file is loaded once, when complete, rather than refused halfway.
// It returns when ctx is done.
func (s *store) watch(ctx context.Context, dir string, interval time.Duration, loaded string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := loaded
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp, err := fingerprint(dir)
		if err != nil {
			// A directory mid-replace can vanish for a moment: try next tick.
			continue
		}
		if fp != loaded && fp == seen {
			loaded = fp
			s.reloadAndLog("watch")
		}
		seen = fp
	}
}

// fingerprint hashes the names, sizes, modes and modification times of
// every file under dir, following symlinks (as Kubernetes ConfigMap mounts
// use them), so any edit, addition, removal or symlink swap changes it.
func fingerprint(dir string) (string, error) {
	var lines []string
	if err := walk(dir, "", 0, &lines); err != nil {
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
	for _, e := range entries {
		name := filepath.Join(rel, e.Name())
		info, err := os.Stat(filepath.Join(root, name)) // follows symlinks
		if err != nil {
			*lines = append(*lines, name+"\tunreadable")
			continue
		}
		if info.IsDir() {
			*lines = append(*lines, name+"/")
			if err := walk(root, name, depth+1, lines); err != nil {
				return err
			}
			continue
		}
		*lines = append(*lines, fmt.Sprintf("%s\t%d\t%v\t%d", name, info.Size(), info.Mode(), info.ModTime().UnixNano()))
	}
	return nil
}
