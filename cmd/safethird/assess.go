package main

import (
	"context"
	"io"

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

Output: text (a report), json (the response as protojson) or markdown (a
memo with footnoted citations). Exit status: 0 answered, 1 the server
refused or failed, 2 usage error.`,
		Example: `  safethird assess MX --as-of 2019-01-01
  safethird assess MX --as-of 2019-01-01 -o markdown > mexico-memo.md
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
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Assessment().AssessCountry(cmd.Context(), req)
			if err != nil {
				return conn.callError("assess "+code, err)
			}
			return writeAssessment(cmd.Context(), c, cmd.OutOrStdout(), out.value, resp)
		},
	}
	fs := cmd.Flags()
	query = addQueryFlags(fs)
	applicant = addApplicantFlags(fs)
	conn = addConnFlags(fs)
	out = addOutputFlag(fs, formatText, formatJSON, formatMarkdown)
	useGroupedHelp(cmd)
	return cmd
}

// writeAssessment renders one answer in format. The memo names the law by
// its citation, so markdown asks the server for the framework too.
func writeAssessment(ctx context.Context, c *client.Client, w io.Writer, format string, resp *pb.AssessCountryResponse) error {
	a := resp.GetAssessment()
	switch format {
	case formatJSON:
		return writeJSON(w, resp)
	case formatMarkdown:
		f, err := c.GetFramework(ctx, a.GetFrameworkId())
		if err != nil {
			return callError("get framework "+a.GetFrameworkId(), err)
		}
		return memo.Assessment(w, a, f)
	default:
		return textAssessment(w, a)
	}
}
