package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "safethird",
		Short: "Assess whether a country can be treated as a safe third country",
		Long: `safethird answers: can this country lawfully be treated as a "safe third country"
for this person, on this date, and why? Every answer cites its sources or says
plainly that the evidence does not decide it. An answer is an assessment of
documented conditions, not a legal determination.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError("%v", err)
	})
	root.AddCommand(newDatasetCommand())
	root.AddCommand(newAssessCommand(), newRouteCommand(), newTimelineCommand())
	root.AddCommand(newCountriesCommand(), newAgreementsCommand(), newFrameworksCommand())
	root.AddCommand(newHealthCommand())
	root.AddCommand(newServeCommand())
	return root
}
