package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/safethird/safethird/dataset"
)

func newDatasetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Work with dataset directories",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate DIR",
		Short: "Validate a dataset directory and print its counts and revision",
		Example: `  safethird dataset validate data
  safethird dataset validate /srv/safethird/dataset`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := dataset.LoadDir(args[0])
			var verr *dataset.ValidationError
			if errors.As(err, &verr) {
				for _, p := range verr.Problems {
					fmt.Fprintln(cmd.OutOrStdout(), p)
				}
				return &exitError{code: 1, msg: fmt.Sprintf("safethird: %s: %d problem(s)", args[0], len(verr.Problems))}
			}
			if err != nil {
				return err
			}
			c := snap.Counts()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "countries:    %d (%d curated)\n", c.Countries, c.CuratedCountries)
			fmt.Fprintf(out, "frameworks:   %d\n", c.Frameworks)
			fmt.Fprintf(out, "agreements:   %d\n", c.Agreements)
			fmt.Fprintf(out, "designations: %d\n", c.Designations)
			fmt.Fprintf(out, "sources:      %d\n", c.Sources)
			fmt.Fprintf(out, "findings:     %d\n", c.Findings)
			fmt.Fprintf(out, "revision: %s\n", snap.Revision())
			return nil
		},
	})
	return cmd
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s takes %d argument(s), got %d; see --help", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
