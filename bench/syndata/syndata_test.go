package syndata_test

import (
	"path/filepath"
	"testing"

	"github.com/safethird/safethird/bench/syndata"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A generation clones the curated world under new codes and ids: the
// dataset validates (every quote found in its copied text, every id
// unique, every reference resolved), and a clone has its template's
// findings and partners under its own framework, while the curated
// countries' partners are what they were.
func TestGenerateClonesTheCuratedWorld(t *testing.T) {
	src := filepath.Join("..", "..", "data")
	orig, err := dataset.LoadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	curated := len(curatedOf(orig))
	s, err := syndata.Generate(src, dir, syndata.Options{Countries: 2 * curated, SourceCopies: 2})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatalf("the generated dataset does not load: %v", err)
	}
	if got := len(curatedOf(snap)); got != 2*curated || s.Countries != got {
		t.Fatalf("%d curated countries loaded, summary says %d; want %d", got, s.Countries, 2*curated)
	}
	// Countries are sorted by code, the clones take the free codes in
	// order, and the templates are taken in order: pair them up.
	var clones []string
	for _, c := range curatedOf(snap) {
		if o, _ := orig.Country(c.GetCode()); !o.GetCurated() {
			clones = append(clones, c.GetCode())
		}
	}
	for i, tmpl := range curatedOf(orig) {
		clone := clones[i]
		for _, fw := range orig.FrameworkIDs() {
			synFW := fw
			if _, ok := snap.Framework("syn1-" + fw); ok {
				synFW = "syn1-" + fw
			}
			for _, crit := range []string{"no-persecution", "fair-procedure"} {
				if want, got := len(orig.Findings(tmpl.GetCode(), fw, crit)), len(snap.Findings(clone, synFW, crit)); want != got {
					t.Errorf("%s, clone of %s, under %s, %s: %d findings, want %d", clone, tmpl.GetCode(), synFW, crit, got, want)
				}
			}
		}
		if want, got := len(orig.PartnersOf(tmpl.GetCode())), len(snap.PartnersOf(clone)); want != got {
			t.Errorf("%s, clone of %s: %d partners, want %d", clone, tmpl.GetCode(), got, want)
		}
		if want, got := orig.PartnersOf(tmpl.GetCode()), snap.PartnersOf(tmpl.GetCode()); len(want) != len(got) {
			t.Errorf("%s: partners %v in the generated dataset, want %v as in the curated one", tmpl.GetCode(), got, want)
		}
	}
}

func curatedOf(s *dataset.Snapshot) []*safethirdv1.Country {
	var out []*safethirdv1.Country
	for _, c := range s.Countries() {
		if c.GetCurated() {
			out = append(out, c)
		}
	}
	return out
}
