package store

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A directory the watcher cannot see is said once, not each interval and
// not never: without the line, reloads would silently wait for a signal.
func TestWatchSaysOnceWhenItCannotSee(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	s := &Store{logger: zap.New(core)}
	dir := filepath.Join(t.TempDir(), "dataset")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s.Watch(ctx, dir, 5*time.Millisecond, "")
	warned := logs.FilterMessageSnippet("dataset watch").All()
	if len(warned) != 1 {
		t.Fatalf("%d warnings over some 40 intervals, want 1: %v", len(warned), warned)
	}
	if err, _ := warned[0].ContextMap()["error"].(string); err == "" {
		t.Errorf("the warning names no error: %v", warned[0].ContextMap())
	}
	// Seen again, then lost again: a new failure is said again.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fp, err := Fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.Remove(dir)
	}()
	s.Watch(ctx2, dir, 5*time.Millisecond, fp)
	if n := logs.FilterMessageSnippet("dataset watch").Len(); n != 2 {
		t.Errorf("%d warnings in all after the directory came and went, want 2", n)
	}
}

// The watcher walks as many entries as a load accepts in one directory.
func TestFingerprintSeesALargeDirectory(t *testing.T) {
	dir := t.TempDir()
	for i := range 20_001 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Fingerprint(dir); err != nil {
		t.Fatalf("Fingerprint of 20,001 files: %v", err)
	}
}
