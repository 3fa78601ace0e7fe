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

func newRouteCommand() *cobra.Command {
	var (
		legs      []string
		query     *queryFlags
		applicant *applicantFlags
		conn      *connFlags
		out       *outputFlag
	)
	cmd := &cobra.Command{
		Use:   "route --legs A,B,...",
		Short: "Assess every country a person who crossed a route could be sent to",
		Long: `route asks the server about a route: the countries crossed, in order, before
the claim (the last leg is the country of last presence). It answers for every
country the person could be sent to under an agreement, with an overall
outcome and a summary, then each country's assessment in turn.

--as-of is the date of the claim. The applicant flags are those of assess;
--entry-type and --days-to-claim often decide whether an agreement covers the
person. Exit status: 0 answered, 1 the server refused or failed, 2 usage error.`,
		Example: `  safethird route --legs GT,MX --as-of 2020-01-15 --nationality HN
  safethird route --legs US --as-of 2023-04-01 --framework ca-irpa-102 \
      --entry-type between-ports --days-to-claim 3 -o markdown`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := &pb.AssessRouteRequest{FrameworkId: query.framework, AsOf: query.asOf, View: query.assessmentView(),
				ApplyingStateCode: query.applyingState.code}
			for i, l := range legs {
				code, err := countryCode(l)
				if err != nil {
					return usageError("--legs: %v", err)
				}
				legs[i] = code
				req.Legs = append(req.Legs, &pb.RouteLeg{CountryCode: code})
			}
			a, err := applicant.applicant()
			if err != nil {
				return err
			}
			req.Applicant = a
			if err := checkRules(req); err != nil {
				return err
			}
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.AssessRoute(cmd.Context(), req)
			if err != nil {
				return conn.callError("route "+strings.Join(legs, ","), err)
			}
			return writeRoute(cmd.Context(), c, cmd.OutOrStdout(), out.value, legs, resp)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&legs, "legs", nil, "countries crossed, in order, ISO 3166-1 alpha-2, comma-separated")
	query = addQueryFlags(fs)
	applicant = addApplicantFlags(fs)
	conn = addConnFlags(fs)
	out = addOutputFlag(fs, formatText, formatJSON, formatMarkdown)
	useGroupedHelp(cmd)
	return cmd
}

// writeRoute renders a route's answer in format.
func writeRoute(ctx context.Context, c *client.Client, w io.Writer, format string, legs []string, resp *pb.AssessRouteResponse) error {
	switch format {
	case formatJSON:
		return writeJSON(w, resp)
	case formatMarkdown:
		var f *pb.Framework
		if as := resp.GetAssessments(); len(as) > 0 {
			var err error
			if f, err = c.GetFramework(ctx, as[0].GetFrameworkId()); err != nil {
				return callError("get framework "+as[0].GetFrameworkId(), err)
			}
		}
		return memo.Route(w, legs, resp, f)
	default:
		return textRoute(w, legs, resp)
	}
}
