package server_test

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rooms are the server's packages from the top down, as README's Layout
// draws them: each may import only rooms on a later line (and the other
// internal packages), never one beside it or above it.
var rooms = []string{
	"server",
	"server/httpdoor",
	"server/middleware",
	"server/service",
	"server/codec",
	"server/rpcstatus",
	"server/store",
	"server/limits",
	"server/callinfo",
	"internal/connlimit",
}

const module = "github.com/safethird/safethird/"

// TestRoomsStandOneAboveAnother fails when a package of server/ imports
// one on its own line or above it, or is missing from the drawing.
func TestRoomsStandOneAboveAnother(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && e.Name() != "testdata" && !slices.Contains(rooms, "server/"+e.Name()) {
			t.Errorf("server/%s is not drawn in README's Layout (and rooms here)", e.Name())
		}
	}
	for i, room := range rooms {
		pkg, err := build.ImportDir(filepath.Join("..", room), 0)
		if err != nil {
			t.Fatalf("%s: %v", room, err)
		}
		for _, imp := range pkg.Imports {
			rel, ok := strings.CutPrefix(imp, module)
			if !ok || !strings.HasPrefix(rel, "server") && !strings.HasPrefix(rel, "internal/") {
				continue
			}
			at := slices.Index(rooms, rel)
			if at < 0 && strings.HasPrefix(rel, "internal/") {
				continue // an internal package below every room
			}
			if at <= i {
				t.Errorf("%s imports %s, which is not below it", room, rel)
			}
		}
	}
}
