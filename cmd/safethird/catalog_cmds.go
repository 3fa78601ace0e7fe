package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// The catalog commands list what the server's dataset holds, as a table or
// as protojson.

// listing is one catalog collection: how to fetch every page of it, as the
// list response for -o json, and how to print it as a table.
type listing struct {
	fetch func(ctx context.Context, c *client.Client) (proto.Message, error)
	table func(w io.Writer, resp proto.Message) error
}

// newListCommand builds a catalog command around cmd's help text.
func newListCommand(cmd *cobra.Command, what string, l listing) *cobra.Command {
	conn := addConnFlags(cmd.Flags())
	out := addOutputFlag(cmd.Flags(), formatText, formatJSON)
	cmd.Args = exactArgs(0)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := conn.dial(cmd.Context())
		if err != nil {
			return err
		}
		defer c.Close()
		resp, err := l.fetch(cmd.Context(), c)
		if err != nil {
			return conn.callError("list "+what, err)
		}
		if out.value == formatJSON {
			return writeJSON(cmd.OutOrStdout(), resp)
		}
		return l.table(cmd.OutOrStdout(), resp)
	}
	useGroupedHelp(cmd)
	return cmd
}

func newCountriesCommand() *cobra.Command {
	var curated bool
	cmd := &cobra.Command{
		Use:   "countries",
		Short: "List the countries the server can assess",
		Long: `countries lists every ISO 3166-1 country the server can assess, ordered by
code; --curated keeps only those with curated findings. Every country can be
assessed: one without curated data is decided from the agreements alone.`,
		Example: `  safethird countries --curated
  safethird countries -o json --addr safethird.internal.example:443 --tls`,
	}
	cmd.Flags().BoolVar(&curated, "curated", false, "only countries with curated data")
	return newListCommand(cmd, "countries", listing{
		fetch: func(ctx context.Context, c *client.Client) (proto.Message, error) {
			cs, err := c.ListCountries(ctx, &pb.ListCountriesRequest{CuratedOnly: curated, PageSize: 1000})
			return &pb.ListCountriesResponse{Countries: cs}, err
		},
		table: func(w io.Writer, resp proto.Message) error {
			return countriesTable(w, resp.(*pb.ListCountriesResponse).GetCountries())
		},
	})
}

func newAgreementsCommand() *cobra.Command {
	return newListCommand(&cobra.Command{
		Use:   "agreements",
		Short: "List the agreements in the server's dataset",
		Long: `agreements lists the bilateral and multilateral agreements the server's
dataset holds, ordered by id; -o json gives each one in full, with its
timeline, scope, exceptions and evidence.`,
		Example: `  safethird agreements
  safethird agreements -o json`,
	}, "agreements", listing{
		fetch: func(ctx context.Context, c *client.Client) (proto.Message, error) {
			as, err := c.ListAgreements(ctx, nil)
			return &pb.ListAgreementsResponse{Agreements: as}, err
		},
		table: func(w io.Writer, resp proto.Message) error {
			return agreementsTable(w, resp.(*pb.ListAgreementsResponse).GetAgreements())
		},
	})
}

func newFrameworksCommand() *cobra.Command {
	return newListCommand(&cobra.Command{
		Use:   "frameworks",
		Short: "List the legal frameworks the server applies",
		Long: `frameworks lists the frameworks (the statutes' safe-third-country rules) the
server applies: who applies each, its criteria, the rules that keep the bar
from a country or a date, and the day to which its agreements and
designations are known. Pass an id to assess and route with --framework.`,
		Example: `  safethird frameworks
  safethird frameworks -o json`,
	}, "frameworks", listing{
		fetch: func(ctx context.Context, c *client.Client) (proto.Message, error) {
			fs, err := c.ListFrameworks(ctx, nil)
			return &pb.ListFrameworksResponse{Frameworks: fs}, err
		},
		table: func(w io.Writer, resp proto.Message) error {
			return frameworksText(w, resp.(*pb.ListFrameworksResponse).GetFrameworks())
		},
	})
}
