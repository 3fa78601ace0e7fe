package reliability_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// These tests are the regression tests of issue 13's findings 1 to 4 and 7:
// what an operator with write access to the --dataset directory, or a
// deploy that copies files in place, could do to the server.

// servedSealed starts a server on a sealed copy of data/, with opts besides
// the dataset, and returns the copy's directory, the server, a client and
// the revision served.
func servedSealed(t *testing.T, opts serverOptions) (string, *serverProc, *client.Client, string) {
	t.Helper()
	opts.dataset = sealedCopy(t, dataset.LoadOptions{})
	srv := startServer(t, opts)
	c := newClient(t, srv.addr)
	return opts.dataset, srv, c, servedRevision(t, c)
}

// isoFile is the path of the ISO 3166-1 list in the dataset in dir.
func isoFile(dir string) string { return filepath.Join(dir, "iso3166", "iso_3166-1.json") }

// recordedLoad runs four workers calling the assessment methods through c
// and records every answer with the revision it names.
func recordedLoad(t *testing.T, c *client.Client) (*loader, *recorder) {
	t.Helper()
	items := workItems()
	rec := newRecorder()
	load := startLoad(t, 4, func(ctx context.Context, w, i int) error {
		idx := (w*7 + i) % len(items)
		if items[idx].list != nil {
			idx = 0 // catalog answers carry no revision
		}
		resp, err := items[idx].call(ctx, c)
		if err != nil {
			return err
		}
		return rec.record(idx, resp)
	})
	waitFor(t, "the load to start", 20*time.Second, func() bool { return load.calls.Load() >= 20 })
	return load, rec
}

// servedRevision is the revision the server c talks to answers from.
func servedRevision(t *testing.T, c *client.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := c.Assessment().AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if err != nil {
		t.Fatalf("AssessCountry: %v", err)
	}
	return resp.GetAssessment().GetDatasetRevision()
}

// Finding 1: a symlink in the dataset directory to /dev/zero or
// /dev/urandom, or the ISO list linked to one, was read without a limit:
// the server died out of memory on the reload, and `dataset validate`
// too. Each is now refused at once, naming the file, and the server stays
// up with its memory unchanged.
func TestDeviceInTheDataset(t *testing.T) {
	t.Parallel()
	dir, srv, c, rev := servedSealed(t, serverOptions{})
	iso := isoFile(dir)
	isoBytes, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file, device string
	}{
		{"findings/zero.yaml", "/dev/zero"},
		{"sources/urandom.yaml", "/dev/urandom"},
		{"iso3166/iso_3166-1.json", "/dev/zero"},
	}
	var rows []string
	for _, tc := range cases {
		t.Run(tc.file+" -> "+tc.device, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(tc.file))
			_ = os.Remove(path)
			if err := os.Symlink(tc.device, path); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			wantRefusedBySignal(t, srv, rev, tc.file)
			refusedIn := time.Since(start)
			if got := servedRevision(t, c); got != rev {
				t.Errorf("served revision %s, want %s", got, rev)
			}
			r := runSafethird(t, 60*time.Second, nil, "dataset", "validate", dir)
			if r.code != 1 || !strings.Contains(r.out, tc.file) {
				t.Errorf("dataset validate: exit %d, want 1 naming %s:\n%s", r.code, tc.file, r.out)
			}
			rows = append(rows, fmt.Sprintf("%s -> %s: reload refused in %v; validate exit %d in %v",
				tc.file, tc.device, refusedIn.Round(time.Millisecond), r.code, r.duration.Round(time.Millisecond)))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if tc.file == "iso3166/iso_3166-1.json" {
				if err := os.WriteFile(iso, isoBytes, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if line, _ := srv.reloadBySignal(t); line["dataset_revision"] != rev {
				t.Errorf("after restoring: %v; want %s", line, rev)
			}
		})
	}
	wantServing(t, c.Conn())
	hwm := procStatus(t, srv.pid, "VmHWM")
	if hwm > 256<<10 {
		t.Errorf("server peak RSS %s, want well under 256 MiB", mib(hwm))
	}
	figure(t, "%d device links refused, server up, peak RSS %s:\n\t%s", len(rows), mib(hwm), strings.Join(rows, "\n\t"))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// Finding 2: a FIFO in the dataset directory blocked the reload forever in
// open(2); later SIGHUPs did nothing, and after SIGTERM the server never
// exited. It is now refused at once, and the server reloads and stops on
// time.
func TestFIFOInTheDataset(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second
	dir, srv, _, rev := servedSealed(t, serverOptions{grace: grace})
	fifo := filepath.Join(dir, "findings", "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wantRefusedBySignal(t, srv, rev, "findings/pipe.yaml: cannot read: not a regular file but a named pipe (FIFO)")
	refusedIn := time.Since(start)
	r := runSafethird(t, 60*time.Second, nil, "dataset", "validate", dir)
	if r.code != 1 || !strings.Contains(r.out, "findings/pipe.yaml") {
		t.Errorf("dataset validate: exit %d, want 1 naming the FIFO:\n%s", r.code, r.out)
	}
	// Later SIGHUPs work: the FIFO gone, the dataset is the one served.
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if line, _ := srv.reloadBySignal(t); line["msg"] != "dataset unchanged" {
		t.Errorf("the SIGHUP after: %v; want the dataset unchanged", line)
	}
	// With a FIFO there again, the server still stops within its grace.
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	wantRefusedBySignal(t, srv, rev, "findings/pipe.yaml")
	d, err := srv.terminate(t, grace+30*time.Second)
	if err != nil || d > grace+time.Second {
		t.Errorf("exit %v after %v, want 0 within the grace (%v) and 1 s", err, d, grace)
	}
	figure(t, "FIFO refused on reload in %v, dataset validate exit %d in %v; SIGHUP after: unchanged; SIGTERM: exit after %v (grace %v)",
		refusedIn.Round(time.Millisecond), r.code, r.duration.Round(time.Millisecond), d.Round(time.Millisecond), grace)
}

// Finding 3: moving a record directory out of the dataset loaded as a new
// valid revision, and Canada's answer changed. Each directory moved out is
// now refused, and the answer stays.
func TestRecordDirectoryMovedOut(t *testing.T) {
	t.Parallel()
	dir, srv, c, _ := servedSealed(t, serverOptions{})
	canada := &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01"}
	answer := func() (string, pb.Determination, pb.PracticeStatus) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		resp, err := c.Assessment().AssessCountry(ctx, canada)
		if err != nil {
			t.Fatalf("AssessCountry CA: %v", err)
		}
		a := resp.GetAssessment()
		return a.GetDatasetRevision(), a.GetDetermination(), a.GetPractice().GetStatus()
	}
	rev, det, practice := answer()
	away := t.TempDir()
	var moved []string
	for _, kind := range pick([]string{"agreements", "findings"}, []string{"agreements", "findings", "designations", "countries", "frameworks", "sources"}) {
		t.Run(kind, func(t *testing.T) {
			if err := os.Rename(filepath.Join(dir, kind), filepath.Join(away, kind)); err != nil {
				t.Fatal(err)
			}
			wantRefusedBySignal(t, srv, rev, kind+"/: missing")
			if r, d, p := answer(); r != rev || d != det || p != practice {
				t.Errorf("Canada's answer after %s/ moved out: %s %v %v; want %s %v %v", kind, r, d, p, rev, det, practice)
			}
			if err := os.Rename(filepath.Join(away, kind), filepath.Join(dir, kind)); err != nil {
				t.Fatal(err)
			}
			if line, _ := srv.reloadBySignal(t); line["dataset_revision"] != rev {
				t.Errorf("after moving it back: %v", line)
			}
			moved = append(moved, kind+"/")
		})
	}
	figure(t, "%s moved out in turn: each refused, Canada (2024-06-01) stayed %v, practice %v, revision %s",
		strings.Join(moved, ", "), det, practice, rev[:15])
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// firstHalfThatValidates finds a record file of dir and a cut at a line
// break such that the file cut there still makes a valid dataset of its
// own, with another revision: what a copy half done looks like. It returns
// the file and its two versions.
func firstHalfThatValidates(t *testing.T, dir string) (string, []byte, []byte) {
	t.Helper()
	scratch := filepath.Join(t.TempDir(), "scratch")
	copyDir(t, dir, scratch)
	base, err := dataset.LoadDir(scratch)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "sources"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries[:min(len(entries), 20)] {
		rel := filepath.Join("sources", e.Name())
		full, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(full), "\n")
		half := []byte(strings.Join(lines[:len(lines)/2+1], ""))
		if err := os.WriteFile(filepath.Join(scratch, rel), half, 0o644); err != nil {
			t.Fatal(err)
		}
		snap, err := dataset.LoadDir(scratch)
		if err == nil && snap.Revision() != base.Revision() {
			return rel, full, half
		}
		if err := os.WriteFile(filepath.Join(scratch, rel), full, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no record file whose first half validates: the test would prove nothing")
	return "", nil, nil
}

// Finding 4: a file rewritten in two halves while reloads happen: the first
// half alone validated, and was served as a revision. With the dataset
// sealed, no reload ever serves it: every answer is from the sealed
// revision.
func TestHalfWrittenFileIsNeverServed(t *testing.T) {
	t.Parallel()
	dir, srv, c, rev := servedSealed(t, serverOptions{dropCallLines: true})
	file, full, half := firstHalfThatValidates(t, dir)
	load, rec := recordedLoad(t, c)
	path := filepath.Join(dir, file)
	rounds := pick(6, 40)
	for range rounds {
		// The first half lands; a reload comes (a signal here, the watcher
		// too); then the rest.
		if err := os.WriteFile(path, half, 0o644); err != nil {
			t.Fatal(err)
		}
		srv.reloadBySignal(t)
		time.Sleep(pick(300*time.Millisecond, 2500*time.Millisecond)) // the watcher's interval is 2 s
		if err := os.WriteFile(path, full, 0o644); err != nil {
			t.Fatal(err)
		}
		srv.reloadBySignal(t)
	}
	calls := load.wantNoFailures(t, "the load during the half writes")
	revs := rec.revisionCounts()
	for r, n := range revs {
		if r != rev {
			t.Errorf("%d answers from revision %s, not the sealed %s: a half-written dataset was served", n, r, rev)
		}
	}
	refused := len(srv.logLines("dataset refused; the last good revision keeps serving"))
	figure(t, "%s written in two halves %d times under load: %d reloads refused, %d calls, %d answers from the sealed revision, %d from any other",
		file, rounds, refused, calls, revs[rev], len(rec.seen)-countOf(rec, rev))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// countOf counts the distinct observations recorded for rev.
func countOf(rec *recorder, rev string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for k := range rec.seen {
		if k.revision == rev {
			n++
		}
	}
	return n
}

// aliasFinding is a finding file of aliases, about size bytes: every item
// of its evidence the alias of the first.
func aliasFinding(size int) []byte {
	var b strings.Builder
	b.WriteString("id: aliases\ncountry_code: MX\nframework_id: us-ina-208a2a\ncriterion_id: fair-procedure\n")
	b.WriteString("status: CRITERION_STATUS_MET\nvalid_from: \"2030-01-01\"\nevidence:\n  - &e\n    source_id: hrf-is-mexico-safe\n")
	b.WriteString("    statement: \"x\"\n    support: SUPPORT_SECONDARY\n")
	for b.Len() < size {
		b.WriteString("  - *e\n")
	}
	return []byte(b.String())
}

// Finding 7: a 360 KB file of YAML aliases took 25 s of reload, 280 MB and
// 80,001 log lines; a 1 MB one 249 s and 837 MB in `dataset validate`. The
// first alias now refuses the file: one problem, at once.
func TestAliasFileIsRefusedFast(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dataset")
	copyDir(t, repoDataDir(t), dir)
	// Unsealed, so the YAML itself is read: sealed, the file would be
	// refused before parsing as not in the seal.
	srv := startServer(t, serverOptions{dataset: dir, env: []string{"SAFETHIRD_DATASET_UNSEALED=true"}})
	rev := servedRevision(t, newClient(t, srv.addr))
	var rows []string
	for _, size := range pick([]int{360_000}, []int{360_000, 1_000_000}) {
		path := filepath.Join(dir, "findings", "aliases.yaml")
		if err := os.WriteFile(path, aliasFinding(size), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		problems := wantRefusedBySignal(t, srv, rev, "findings/aliases.yaml:12:5: YAML alias *e")
		refusedIn := time.Since(start)
		if len(problems) > 25 {
			t.Errorf("%d problem lines logged for one file, want a bounded few", len(problems))
		}
		r := runSafethird(t, 60*time.Second, nil, "dataset", "validate", dir)
		if lines := strings.Count(r.out, "\n"); r.code != 1 || lines > 30 || !strings.Contains(r.out, "YAML alias") {
			t.Errorf("dataset validate: exit %d, %d lines, want 1 and a few naming the alias:\n%.2000s", r.code, lines, r.out)
		}
		rows = append(rows, fmt.Sprintf("%d KB: reload refused in %v with %d problem line(s); validate exit %d in %v, %d lines",
			size/1000, refusedIn.Round(time.Millisecond), len(problems), r.code, r.duration.Round(time.Millisecond), strings.Count(r.out, "\n")))
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	figure(t, "alias files refused, server up:\n\t%s", strings.Join(rows, "\n\t"))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// kubeVolume lays dir out as Kubernetes publishes a volume: the content in
// a timestamped directory, "..data" a symlink to it, and each top-level
// entry a symlink through "..data".
func kubeVolume(t *testing.T, mount, src, stamp string) {
	t.Helper()
	copyDir(t, src, filepath.Join(mount, stamp))
	if err := os.Symlink(stamp, filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join("..data", e.Name()), filepath.Join(mount, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// kubeSwap publishes src as Kubernetes does: a new timestamped directory,
// "..data" switched to it by a rename, the old one removed.
func kubeSwap(t *testing.T, mount, src, stamp string) {
	t.Helper()
	old, err := os.Readlink(filepath.Join(mount, "..data"))
	if err != nil {
		t.Fatal(err)
	}
	copyDir(t, src, filepath.Join(mount, stamp))
	tmp := filepath.Join(mount, "..data_tmp")
	if err := os.Symlink(stamp, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(mount, old)); err != nil {
		t.Fatal(err)
	}
}

// A Kubernetes-style atomic swap (a "..data" symlink switched to a new
// directory) reloads cleanly under load: the new sealed revision serves,
// no call fails, no reload is refused, and no answer comes from anything
// but the two revisions.
func TestKubernetesVolumeSwap(t *testing.T) {
	t.Parallel()
	a := sealedCopy(t, dataset.LoadOptions{})
	b := filepath.Join(t.TempDir(), "b")
	copyDir(t, a, b)
	rewrite(t, filepath.Join(b, filepath.FromSlash(brokenFinding)), func(old []byte) []byte {
		return []byte(strings.Replace(string(old), "summary: >-\n", "summary: >-\n  Revision B of the volume test.\n", 1))
	})
	revB := reseal(t, b, dataset.LoadOptions{})
	mount := filepath.Join(t.TempDir(), "mount")
	if err := os.Mkdir(mount, 0o755); err != nil {
		t.Fatal(err)
	}
	kubeVolume(t, mount, a, "..2026_11_27_00_00_00.000")
	srv := startServer(t, serverOptions{dataset: mount, dropCallLines: true})
	c := newClient(t, srv.addr)
	revA := servedRevision(t, c)
	load, rec := recordedLoad(t, c)
	swaps := pick(2, 20)
	for i := range swaps {
		src, want := b, revB
		if i%2 == 1 {
			src, want = a, revA
		}
		kubeSwap(t, mount, src, fmt.Sprintf("..2026_11_27_00_00_%02d.000", i+1))
		// The watcher reloads it; wait for answers from it.
		waitFor(t, "the swapped revision to serve", 20*time.Second, func() bool { return servedRevision(t, c) == want })
	}
	calls := load.wantNoFailures(t, "the load during the swaps")
	if refused := srv.logLines("dataset refused; the last good revision keeps serving"); len(refused) > 0 {
		t.Errorf("%d reloads refused during clean swaps; first problems:\n%s", len(refused), strings.Join(problemLines(srv), "\n"))
	}
	revs := rec.revisionCounts()
	for r, n := range revs {
		if r != revA && r != revB {
			t.Errorf("%d answers from revision %s, neither A nor B", n, r)
		}
	}
	loaded := srv.logLines("dataset loaded")
	figure(t, "%d ..data swaps under load: %d reloads, 0 refused; %d calls, 0 failed; %d answers from A, %d from B",
		swaps, len(loaded), calls, revs[revA], revs[revB])
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// problemLines returns the dataset problems the server logged.
func problemLines(srv *serverProc) []string {
	var out []string
	for _, l := range srv.logLines("dataset problem") {
		out = append(out, fmt.Sprint(l["problem"]))
	}
	return slices.Compact(out)
}
