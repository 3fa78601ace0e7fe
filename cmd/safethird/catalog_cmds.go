package main

import (
	"github.com/spf13/cobra"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// The catalog commands list what the server's dataset holds, as a table or
// as protojson.

func newCountriesCommand() *cobra.Command {
	var (
		curated bool
		conn    *connFlags
		out     *outputFlag
	)
	cmd := &cobra.Command{
		Use:   "countries",
		Short: "List the countries the server can assess",
		Long: `countries lists every ISO 3166-1 country the server can assess, ordered by
code; --curated keeps only those with curated findings. Every country can be
assessed: one without curated data is decided from the agreements alone.`,
		Example: `  safethird countries --curated
  safethird countries -o json --addr safethird.internal.example:443 --tls`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			cs, err := c.ListCountries(cmd.Context(), &pb.ListCountriesRequest{CuratedOnly: curated, PageSize: 1000})
			if err != nil {
				return callError("list countries", err)
			}
			if out.value == formatJSON {
				return writeJSON(cmd.OutOrStdout(), &pb.ListCountriesResponse{Countries: cs})
			}
			return countriesTable(cmd.OutOrStdout(), cs)
		},
	}
	cmd.Flags().BoolVar(&curated, "curated", false, "only countries with curated data")
	conn = addConnFlags(cmd.Flags())
	out = addOutputFlag(cmd.Flags(), formatText, formatJSON)
	useGroupedHelp(cmd)
	return cmd
}

func newAgreementsCommand() *cobra.Command {
	var (
		conn *connFlags
		out  *outputFlag
	)
	cmd := &cobra.Command{
		Use:   "agreements",
		Short: "List the agreements in the server's dataset",
		Long: `agreements lists the bilateral and multilateral agreements the server's
dataset holds, ordered by id; -o json gives each one in full, with its
timeline, scope, exceptions and evidence.`,
		Example: `  safethird agreements
  safethird agreements -o json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			as, err := c.ListAgreements(cmd.Context(), nil)
			if err != nil {
				return callError("list agreements", err)
			}
			if out.value == formatJSON {
				return writeJSON(cmd.OutOrStdout(), &pb.ListAgreementsResponse{Agreements: as})
			}
			return agreementsTable(cmd.OutOrStdout(), as)
		},
	}
	conn = addConnFlags(cmd.Flags())
	out = addOutputFlag(cmd.Flags(), formatText, formatJSON)
	useGroupedHelp(cmd)
	return cmd
}

func newFrameworksCommand() *cobra.Command {
	var (
		conn *connFlags
		out  *outputFlag
	)
	cmd := &cobra.Command{
		Use:   "frameworks",
		Short: "List the legal frameworks the server applies",
		Long: `frameworks lists the frameworks (the statutes' safe-third-country rules) the
server applies, with their criteria; pass an id to assess and route with
--framework.`,
		Example: `  safethird frameworks
  safethird frameworks -o json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			fs, err := c.ListFrameworks(cmd.Context(), nil)
			if err != nil {
				return callError("list frameworks", err)
			}
			if out.value == formatJSON {
				return writeJSON(cmd.OutOrStdout(), &pb.ListFrameworksResponse{Frameworks: fs})
			}
			return frameworksTable(cmd.OutOrStdout(), fs)
		},
	}
	conn = addConnFlags(cmd.Flags())
	out = addOutputFlag(cmd.Flags(), formatText, formatJSON)
	useGroupedHelp(cmd)
	return cmd
}
