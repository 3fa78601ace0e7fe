package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/safethird/safethird/answerdiff"
	"github.com/safethird/safethird/dataset"
)

func newDiffCommand() *cobra.Command {
	var (
		format, from, to string
		unsealed         bool
		maxCost          uint64
	)
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Report every answer that differs between two dataset directories: a release's note",
		Long: `diff loads two dataset directories and asks both the same questions: every
framework, every country either dataset speaks of (curated, party to an
agreement, designated, the subject of a finding), each applying state that
designated under a framework several states apply, with no applicant and with
each applicant group a finding names; on every date where either dataset has a
change point (each date a record gives, each date a condition compares with,
the day after each, and the day before the first). It reports where the
determination, the practice, the applicant outcome or a criterion's status
differs, over which dates, with the changed records the answers rest on, and
lists every record added, removed or changed.

Both directories must be sealed (their manifests matching their files), unless
--unsealed, which checks their content only: a copy being edited.
'make seal' prints this against the last sealed revision in git.`,
		Example: `  safethird dataset diff /srv/release/dataset-2026-10 data
  safethird dataset diff --unsealed --format markdown old/ data/ > release-note.md
  safethird dataset diff --from 2019-01-01 --to 2021-12-31 --format json a b`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(answerdiff.Formats(), format) {
				return usageError("--format %q: want %s", format, strings.Join(answerdiff.Formats(), ", "))
			}
			for _, d := range []struct{ flag, value string }{{"from", from}, {"to", to}} {
				if _, ok := dataset.ParseDate(d.value); d.value != "" && !ok {
					return usageError("--%s %q: want a date YYYY-MM-DD", d.flag, d.value)
				}
			}
			if from != "" && to != "" && from > to {
				return usageError("--from %s is after --to %s", from, to)
			}
			opts := dataset.LoadOptions{Sealed: !unsealed, MaxConditionCost: maxCost}
			var snaps [2]*dataset.Snapshot
			for i, dir := range args {
				snap, err := opts.LoadDir(dir)
				if problems, perr := problemLines(err); perr != nil {
					return perr
				} else if len(problems) > 0 {
					hint := ""
					if !unsealed {
						hint = "; a copy being edited is compared with --unsealed"
					}
					return &exitError{code: 1, msg: fmt.Sprintf("safethird: %s: %d problem(s)%s:\n%s", dir, len(problems), hint, strings.Join(problems, "\n"))}
				}
				snaps[i] = snap
			}
			start := time.Now()
			r, err := answerdiff.Compare(cmd.Context(), snaps[0], snaps[1], answerdiff.Options{From: from, To: to})
			if err != nil {
				return err
			}
			if err := r.Write(cmd.OutOrStdout(), format); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "compared in %s\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "text", "output: text, markdown (a release note) or json")
	fl.StringVar(&from, "from", "", "first date compared, YYYY-MM-DD (default: the day before the first change point)")
	fl.StringVar(&to, "to", "", "last date compared, YYYY-MM-DD (default: the last change point, and on)")
	fl.BoolVar(&unsealed, "unsealed", false, "load both directories without checking their seals (copies being edited)")
	maxCostFlag(fl, &maxCost)
	return cmd
}
