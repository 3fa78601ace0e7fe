package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/memo"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func newTimelineCommand() *cobra.Command {
	var (
		from, to  string
		query     *queryFlags
		applicant *applicantFlags
		conn      *connFlags
		out       *outputFlag
	)
	cmd := &cobra.Command{
		Use:   "timeline COUNTRY --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "Show how the answer for a country changes over a range of days",
		Long: `timeline asks the server for the answer on COUNTRY on every day from --from to
--to (at most 30 years), as runs of days that share the same answer: in
practice, on the evidence and, with applicant flags, for the applicant. Each
run says what changed on its first day, with the records and sources that
changed it: when the bar started to be applied, when it paused, when a
finding began to hold.

The applicant flags are those of assess, the same on every day; --from may
not be before --entry-date. Exit status: 0 answered, 1 the server refused or
failed, 2 usage error.`,
		Example: `  safethird timeline GT --from 2019-01-01 --to 2021-12-31
  safethird timeline UG --from 2025-01-01 --to 2026-12-31 --nationality HN --group lgbtqi -o markdown`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := countryCode(args[0])
			if err != nil {
				return usageError("COUNTRY: %v", err)
			}
			a, err := applicant.applicant()
			if err != nil {
				return err
			}
			req := &pb.AssessTimelineRequest{CountryCode: code, FrameworkId: query.framework, ApplyingStateCode: query.applyingState.code,
				Applicant: a, StartDate: from, EndDate: to}
			if err := checkRules(req); err != nil {
				return err
			}
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Assessment().AssessTimeline(cmd.Context(), req)
			if err != nil {
				return callError("timeline "+code, err)
			}
			return writeTimeline(cmd.Context(), c, cmd.OutOrStdout(), out.value, resp)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD")
	query = addLawFlags(fs)
	applicant = addApplicantFlags(fs)
	conn = addConnFlags(fs)
	out = addOutputFlag(fs, formatText, formatJSON, formatMarkdown)
	useGroupedHelp(cmd)
	return cmd
}

// writeTimeline renders a timeline in format.
func writeTimeline(ctx context.Context, c *client.Client, w io.Writer, format string, tl *pb.AssessTimelineResponse) error {
	switch format {
	case formatJSON:
		return writeJSON(w, tl)
	case formatMarkdown:
		f, err := c.GetFramework(ctx, tl.GetFrameworkId())
		if err != nil {
			return callError("get framework "+tl.GetFrameworkId(), err)
		}
		return memo.Timeline(w, tl, f)
	default:
		var b strings.Builder
		fmt.Fprintf(&b, "%s under %s\n", tl.GetCountryCode(), tl.GetFrameworkId())
		writeTextTimeline(&b, tl)
		fmt.Fprintf(&b, "\nDataset revision: %s\n", tl.GetDatasetRevision())
		_, err := io.WriteString(w, b.String())
		return err
	}
}

// writeTextTimeline writes each run of days with its answer and what
// changed on its first day.
func writeTextTimeline(b *strings.Builder, tl *pb.AssessTimelineResponse) {
	for _, s := range tl.GetSegments() {
		fmt.Fprintf(b, "\n%s to %s\n", s.GetStartDate(), s.GetEndDate())
		fmt.Fprintf(b, "  In practice:     %s\n  On the evidence: %s\n", memo.Label(s.GetPracticeStatus()), memo.Label(s.GetDetermination()))
		if s.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
			fmt.Fprintf(b, "  For the applicant: %s\n", memo.Label(s.GetApplicantOutcome()))
		}
		for _, ch := range s.GetChanges() {
			hang(b, "  - ", "    ", fmt.Sprintf("%s (%s; sources: %s)", ch.GetDescription(), ch.GetRecordId(), strings.Join(ch.GetSourceIds(), ", ")))
		}
	}
}

// timelineRange is the range a memo's timeline covers for an answer on
// asOf: from five years before, or the person's entry if later, to asOf.
func timelineRange(asOf string, a *pb.Applicant) (string, string, error) {
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return "", "", fmt.Errorf("the answer's date %q: %w", asOf, err)
	}
	return max(day.AddDate(-5, 0, 0).Format(time.DateOnly), a.GetEntryDate()), asOf, nil
}
