package main

import (
	"github.com/spf13/pflag"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// queryFlags are the flags that frame a question: when, under which law,
// and how much of the answer to return.
type queryFlags struct {
	fs            *pflag.FlagSet
	asOf          string
	framework     string
	applyingState countryFlag
	view          enumFlag
}

func addQueryFlags(fs *pflag.FlagSet) *queryFlags {
	f := &queryFlags{fs: fs, view: enumFlag{choices: newChoices(pb.AssessmentView(0), "view", nil)}}
	grouped(fs, "Question flags", func(own *pflag.FlagSet) {
		own.StringVar(&f.asOf, "as-of", "", "date to assess, YYYY-MM-DD (default today, UTC, on the server)")
		f.addLaw(own)
		own.Var(&f.view, "view", "how much to return: "+f.view.list()+" (default full)")
	})
	return f
}

// addLawFlags adds only the flags that name the law, for a question that
// names its own days and has no view (a timeline).
func addLawFlags(fs *pflag.FlagSet) *queryFlags {
	f := &queryFlags{fs: fs}
	grouped(fs, "Question flags", f.addLaw)
	return f
}

func (f *queryFlags) addLaw(own *pflag.FlagSet) {
	own.StringVar(&f.framework, "framework", "", "framework id, e.g. us-ina-208a2a or ca-irpa-102 (default us-ina-208a2a)")
	own.Var(&f.applyingState, "applying-state", "the state applying a framework several states apply (an EU member state for eu-*), ISO 3166-1 alpha-2")
}

func (f *queryFlags) assessmentView() pb.AssessmentView {
	return pb.AssessmentView(f.view.value)
}
