package main

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/memo"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

func newAssessCommand() *cobra.Command {
	var (
		query     *queryFlags
		applicant *applicantFlags
		conn      *connFlags
		out       *outputFlag
		timeline  bool
	)
	cmd := &cobra.Command{
		Use:   "assess COUNTRY",
		Short: "Assess whether a country can be treated as a safe third country",
		Long: `assess asks the server whether COUNTRY (ISO 3166-1 alpha-2) can be treated as a
safe third country under a framework on a date, and why, and, when applicant
flags are given, whether the bar applies to that person.

Every applicant fact is optional. A flag left out means the fact is unknown,
never false: where the answer hinges on it, the answer says which facts
would decide it. With no applicant flag the country is assessed alone.

Groups are unknown unless given: --group names one the person belongs to
(the others stay unknown, and the answer says what each would change);
--no-groups or --no-other-groups says there are no others.

Output: text (a report), json (the response as protojson) or markdown (a
memo with footnoted citations). --timeline adds the timeline of the answer
over the five years to the date assessed (from the entry date, if later),
as the timeline command gives it, to a report or a memo. Exit status: 0
answered, 1 the server refused or failed, 2 usage error.`,
		Example: `  safethird assess MX --as-of 2019-01-01
  safethird assess MX --as-of 2019-01-01 -o markdown > mexico-memo.md
  safethird assess UG --as-of 2026-06-01 --nationality HN --group women-and-girls --entry-date 2026-03-01 -o markdown --timeline
  safethird assess CA --as-of 2024-06-01 --nationality HT --age 16 --married=false \
      --no-parent-or-guardian-in --entry-type land-port
  safethird assess CA --framework us-ina-208a2a --family sibling:citizen --document work-permit -o json`,
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
			req := &pb.AssessCountryRequest{
				CountryCode:       code,
				FrameworkId:       query.framework,
				AsOf:              query.asOf,
				Applicant:         a,
				View:              query.assessmentView(),
				ApplyingStateCode: query.applyingState.code,
			}
			if err := checkRules(req); err != nil {
				return err
			}
			if timeline && out.value == formatJSON {
				return usageError("--timeline adds to a report or a memo: use -o text or -o markdown, or the timeline command for JSON")
			}
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Assessment().AssessCountry(cmd.Context(), req)
			if err != nil {
				return conn.callError("assess "+code, err)
			}
			var tl *pb.AssessTimelineResponse
			if timeline {
				if tl, err = timelineOf(cmd.Context(), c, req, resp.GetAssessment()); err != nil {
					return err
				}
			}
			return writeAssessment(cmd.Context(), c, cmd.OutOrStdout(), out.value, resp, tl)
		},
	}
	fs := cmd.Flags()
	query = addQueryFlags(fs)
	applicant = addApplicantFlags(fs)
	conn = addConnFlags(fs)
	out = addOutputFlag(fs, formatText, formatJSON, formatMarkdown)
	fs.BoolVar(&timeline, "timeline", false, "add the timeline of the answer over the five years to the date assessed")
	useGroupedHelp(cmd)
	return cmd
}

// timelineOf asks for the timeline of the answer a to req.
func timelineOf(ctx context.Context, c *client.Client, req *pb.AssessCountryRequest, a *pb.Assessment) (*pb.AssessTimelineResponse, error) {
	from, to, err := timelineRange(a.GetAsOf(), req.GetApplicant())
	if err != nil {
		return nil, err
	}
	tl, err := c.Assessment().AssessTimeline(ctx, &pb.AssessTimelineRequest{CountryCode: req.GetCountryCode(), FrameworkId: req.GetFrameworkId(),
		ApplyingStateCode: req.GetApplyingStateCode(), Applicant: req.GetApplicant(), DatasetRevision: a.GetDatasetRevision(), StartDate: from, EndDate: to})
	if err != nil {
		return nil, callError("timeline "+req.GetCountryCode(), err)
	}
	return tl, nil
}

// writeAssessment renders one answer in format, with its timeline when tl
// is set. The memo names the law by its citation, so markdown asks the
// server for the framework too.
func writeAssessment(ctx context.Context, c *client.Client, w io.Writer, format string, resp *pb.AssessCountryResponse, tl *pb.AssessTimelineResponse) error {
	a := resp.GetAssessment()
	switch format {
	case formatJSON:
		return writeJSON(w, resp)
	case formatMarkdown:
		f, err := c.GetFramework(ctx, a.GetFrameworkId())
		if err != nil {
			return callError("get framework "+a.GetFrameworkId(), err)
		}
		var opts []memo.Option
		if tl != nil {
			opts = append(opts, memo.WithTimeline(tl))
		}
		return memo.Assessment(w, a, f, opts...)
	default:
		if err := textAssessment(w, a); err != nil || tl == nil {
			return err
		}
		var b strings.Builder
		b.WriteString("\nTimeline of the answer\n")
		writeTextTimeline(&b, tl)
		_, err := io.WriteString(w, b.String())
		return err
	}
}
