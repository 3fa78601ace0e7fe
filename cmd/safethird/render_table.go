package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// table writes rows under a header, in aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func countriesTable(w io.Writer, cs []*pb.Country) error {
	rows := make([][]string, len(cs))
	for i, c := range cs {
		curated := ""
		if c.GetCurated() {
			curated = "yes"
		}
		rows[i] = []string{c.GetCode(), c.GetName(), curated}
	}
	return table(w, []string{"CODE", "NAME", "CURATED"}, rows)
}

func agreementsTable(w io.Writer, as []*pb.Agreement) error {
	rows := make([][]string, len(as))
	for i, a := range as {
		rows[i] = []string{a.GetId(), strings.Join(a.GetPartyCodes(), ","), a.GetTitle()}
	}
	return table(w, []string{"ID", "PARTIES", "TITLE"}, rows)
}
