package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// groupAnnotation marks which help section a flag belongs to.
const groupAnnotation = "safethird_group"

// grouped registers the flags that add registers on fs under a help
// section title, so a command with thirty flags shows them in groups.
func grouped(fs *pflag.FlagSet, title string, add func(*pflag.FlagSet)) {
	own := pflag.NewFlagSet(title, pflag.ContinueOnError)
	own.SortFlags = false
	add(own)
	own.VisitAll(func(f *pflag.Flag) {
		if f.Annotations == nil {
			f.Annotations = map[string][]string{}
		}
		f.Annotations[groupAnnotation] = []string{title}
	})
	fs.AddFlagSet(own)
}

// useGroupedHelp makes cmd's help show its flags in their sections, in
// the order they were registered.
func useGroupedHelp(cmd *cobra.Command) {
	cmd.Flags().SortFlags = false
	cmd.SetUsageFunc(groupedUsage)
}

// groupedUsage prints a command's flags in their sections, in the order
// they were added; flags with no section come last.
func groupedUsage(c *cobra.Command) error {
	var titles []string
	sets := map[string]*pflag.FlagSet{}
	c.Flags().VisitAll(func(f *pflag.Flag) {
		title := "Flags"
		if g := f.Annotations[groupAnnotation]; len(g) > 0 {
			title = g[0]
		}
		if sets[title] == nil {
			sets[title] = pflag.NewFlagSet(title, pflag.ContinueOnError)
			sets[title].SortFlags = false
			titles = append(titles, title)
		}
		sets[title].AddFlag(f)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  %s\n", c.UseLine())
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	for _, t := range titles {
		fmt.Fprintf(&b, "\n%s:\n%s", t, sets[t].FlagUsages())
	}
	_, err := fmt.Fprint(c.OutOrStderr(), b.String())
	return err
}
