package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// release makes a sealed release: a copy of from (the embedded dataset
// when empty) with the edited finding's summary marked, sealed again.
func release(t *testing.T, from, marker string) string {
	t.Helper()
	dir := t.TempDir()
	if from == "" {
		dir = copyDataset(t)
	} else if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	editSummary(t, dir, marker)
	return dir
}

// TestArchiveAnswersOldRevisions: a server with an archive of two older
// releases answers a call pinned to each exactly as a server serving that
// release live does, lists them, and refuses a revision it does not hold,
// naming those it holds.
func TestArchiveAnswersOldRevisions(t *testing.T) {
	older := release(t, "", " RELEASE-A")
	old := release(t, older, " RELEASE-B")
	live := release(t, old, " RELEASE-C")
	archiveDir := t.TempDir()
	for name, dir := range map[string]string{"2026-03": older, "2026-06": old} {
		if err := os.CopyFS(filepath.Join(archiveDir, name), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := serverConfig()
	// One kept loaded: each pin below evicts the other release, which is
	// then loaded again.
	cfg.DatasetDir, cfg.DatasetArchive, cfg.ArchiveMax, cfg.WatchInterval = live, archiveDir, 1, -1
	ts := startServer(t, cfg)

	req := func(rev string) *safethirdv1.AssessCountryRequest {
		return &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", DatasetRevision: rev}
	}
	revs := map[string]string{}
	for name, dir := range map[string]string{"older": older, "old": old} {
		cfgLive := serverConfig()
		cfgLive.DatasetDir, cfgLive.WatchInterval = dir, -1
		ref := startServer(t, cfgLive)
		want, err := ref.assess.AssessCountry(context.Background(), req(""))
		if err != nil {
			t.Fatal(err)
		}
		rev := want.GetAssessment().GetDatasetRevision()
		revs[name] = rev
		for range 2 {
			got, err := ts.assess.AssessCountry(context.Background(), req(rev))
			if err != nil {
				t.Fatalf("%s pinned: %v", name, err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s: the archive's answer differs from a server serving it live (-live +archive):\n%s", name, diff)
			}
		}
		wantRoute, err := ref.assess.AssessRoute(context.Background(), &safethirdv1.AssessRouteRequest{
			Legs: []*safethirdv1.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2020-06-01"})
		if err != nil {
			t.Fatal(err)
		}
		gotRoute, err := ts.assess.AssessRoute(context.Background(), &safethirdv1.AssessRouteRequest{
			Legs: []*safethirdv1.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2020-06-01", DatasetRevision: rev})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantRoute, gotRoute, protocmp.Transform()); diff != "" {
			t.Errorf("%s: the archive's route differs (-live +archive):\n%s", name, diff)
		}
	}
	if !strings.Contains(mustAssess(t, ts, req(revs["older"])).GetAssessment().GetCriteria()[1].GetRationale(), "RELEASE-A") {
		t.Error("the older release's answer does not carry its own finding")
	}

	batch, err := ts.assess.BatchAssessCountries(context.Background(), &safethirdv1.BatchAssessCountriesRequest{
		Requests: []*safethirdv1.AssessCountryRequest{req(revs["older"]), req(""), req(revs["old"])}})
	if err != nil {
		t.Fatal(err)
	}
	liveRev := loadDir(t, live).Revision()
	for i, want := range []string{revs["older"], liveRev, revs["old"]} {
		if got := batch.GetResults()[i].GetAssessment().GetDatasetRevision(); got != want {
			t.Errorf("batch item %d answered from %s, want %s", i, got, want)
		}
	}

	_, err = ts.assess.AssessCountry(context.Background(), req("sha256:"+zeros64))
	st := wantStatus(t, err, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH")
	for _, rev := range []string{liveRev, revs["older"], revs["old"]} {
		if !strings.Contains(st.Message(), rev) {
			t.Errorf("the refusal does not name %s: %s", rev, st.Message())
		}
	}

	list, err := ts.catalog.ListRevisions(context.Background(), &safethirdv1.ListRevisionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list.GetRevisions() {
		got = append(got, r.GetRevision())
		if r.GetSealedOn() == "" || r.GetSequence() == 0 {
			t.Errorf("revision %s lacks its seal date or sequence: %v", r.GetRevision(), r)
		}
		if r.GetLive() != (r.GetRevision() == liveRev) || r.GetArchived() == (r.GetRevision() == liveRev) {
			t.Errorf("revision %s: live %v, archived %v", r.GetRevision(), r.GetLive(), r.GetArchived())
		}
	}
	if diff := cmp.Diff([]string{liveRev, revs["old"], revs["older"]}, got); diff != "" {
		t.Errorf("ListRevisions (-want +got):\n%s", diff)
	}
	page, err := ts.catalog.ListRevisions(context.Background(), &safethirdv1.ListRevisionsRequest{PageSize: 2})
	if err != nil || len(page.GetRevisions()) != 2 || page.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", page, err)
	}
	rest, err := ts.catalog.ListRevisions(context.Background(), &safethirdv1.ListRevisionsRequest{PageSize: 2, PageToken: page.GetNextPageToken()})
	if err != nil || len(rest.GetRevisions()) != 1 || rest.GetRevisions()[0].GetRevision() != revs["older"] || rest.GetNextPageToken() != "" {
		t.Errorf("second page: %v, %v", rest, err)
	}
}

func mustAssess(t *testing.T, ts *testServer, req *safethirdv1.AssessCountryRequest) *safethirdv1.AssessCountryResponse {
	t.Helper()
	resp, err := ts.assess.AssessCountry(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestArchiveRefusesATamperedRelease: an archived release is checked like
// the live dataset when first pinned; one changed since it was sealed is
// refused, its problems logged once, and not loaded again on every call.
func TestArchiveRefusesATamperedRelease(t *testing.T) {
	old := release(t, "", " RELEASE-A")
	rev := loadDir(t, old).Revision()
	archiveDir := t.TempDir()
	tampered := filepath.Join(archiveDir, "2026-03")
	if err := os.CopyFS(tampered, os.DirFS(old)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(tampered, filepath.FromSlash(editedFinding)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("# changed after the seal\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig()
	cfg.DatasetArchive = archiveDir
	ts := startServer(t, cfg)
	for range 3 {
		_, err := ts.assess.AssessCountry(context.Background(), &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", DatasetRevision: rev})
		st := wantStatus(t, err, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH")
		if !strings.Contains(st.Message(), "failed its checks") {
			t.Errorf("message: %s", st.Message())
		}
	}
	if n := len(ts.logs.FilterMessage("dataset problem").All()); n != 1 {
		t.Errorf("%d dataset problems logged, want the one, once", n)
	}
}

// TestRollbackRefused: with a public key, a live dataset whose signed
// release sequence is lower than the served one's is refused and logged,
// and the served one keeps answering; a higher one is taken.
func TestRollbackRefused(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(dir string, seq uint64) {
		t.Helper()
		if _, err := (dataset.LoadOptions{}).SealWith(dir, dataset.SealOptions{Key: key, Sequence: seq}); err != nil {
			t.Fatal(err)
		}
	}
	older := release(t, "", " OLDER")
	seal(older, 100)
	live := release(t, "", " LIVE")
	seal(live, 200)
	hup := make(chan os.Signal, 1)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.DatasetPublicKey, cfg.WatchInterval, cfg.ReloadSignals = live, pub, -1, hup
	ts := startServer(t, cfg)
	liveRev := loadDir(t, live).Revision()

	replace := func(from string) {
		t.Helper()
		if err := os.RemoveAll(live); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(live, os.DirFS(from)); err != nil {
			t.Fatal(err)
		}
	}
	replace(older)
	hup <- syscall.SIGHUP
	waitFor(t, "the rollback refused and logged", func() bool {
		for _, e := range ts.logs.FilterMessage("dataset load failed").All() {
			if strings.Contains(e.ContextMap()["error"].(string), "release 100, older than release 200") {
				return true
			}
		}
		return false
	})
	if got := mustAssess(t, ts, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}).GetAssessment().GetDatasetRevision(); got != liveRev {
		t.Errorf("after a refused rollback, answers from %s, want %s", got, liveRev)
	}

	newer := release(t, "", " NEWER")
	seal(newer, 300)
	replace(newer)
	hup <- syscall.SIGHUP
	newRev := loadDir(t, newer).Revision()
	waitFor(t, "the newer release served", func() bool {
		resp, err := ts.assess.AssessCountry(context.Background(), &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
		return err == nil && resp.GetAssessment().GetDatasetRevision() == newRev
	})
}
