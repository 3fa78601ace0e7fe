package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/expectation"
)

func newDatasetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Check, seal and sign dataset directories",
	}
	cmd.AddCommand(newValidateCommand(), newSealCommand(), newKeygenCommand(), newDiffCommand())
	return cmd
}

// expectations runs a dataset's expectations (tests/) as a load's check,
// and counts the cases run.
type expectations struct{ cases int }

func (e *expectations) check(snap *dataset.Snapshot) []dataset.Problem {
	r := expectation.Run(snap)
	e.cases = r.Cases
	return r.Problems
}

// maxCostFlag adds --max-condition-cost, the same on every command that
// loads a dataset, so validate and seal check what serve will load.
func maxCostFlag(fl *pflag.FlagSet, v *uint64) {
	fl.Uint64Var(v, "max-condition-cost", condition.DefaultMaxCost,
		"largest estimated cost of a CEL condition in the dataset (and the cost at which one is stopped)")
}

func newValidateCommand() *cobra.Command {
	var (
		unsealed  bool
		publicKey string
		maxCost   uint64
	)
	cmd := &cobra.Command{
		Use:   "validate DIR",
		Short: "Validate a dataset directory, its expectations and its seal, and print its counts and revision",
		Long: `validate checks a dataset directory as serve would load it: the content of
every record, the expectations in tests/ (each case's answer must be what it
says), and the seal (manifest.json) that every file must match. With
--public-key the seal's signature must verify too. While editing an unsealed
copy, --unsealed checks the content and the expectations alone; seal it when
done.`,
		Example: `  safethird dataset validate data
  safethird dataset validate --unsealed ~/work/dataset
  safethird dataset validate --public-key dataset-key.pub.pem /srv/safethird/dataset`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			var pub ed25519.PublicKey
			if publicKey != "" {
				if unsealed {
					return usageError("--public-key checks a seal, which --unsealed skips: give one or the other")
				}
				var err error
				if pub, err = readPublicKey(publicKey); err != nil {
					return usageError("--public-key: %v", err)
				}
			}
			var exp expectations
			snap, err := dataset.LoadOptions{MaxConditionCost: maxCost, Check: exp.check}.LoadDir(dir)
			problems, err := problemLines(err)
			if err != nil {
				return err
			}
			var sealProblems []string
			if !unsealed {
				_, serr := dataset.LoadOptions{Sealed: true, PublicKey: pub, MaxConditionCost: maxCost}.LoadDir(dir)
				seal, err := problemLines(serr)
				if err != nil {
					return err
				}
				for _, p := range seal {
					if !slices.Contains(problems, p) {
						sealProblems = append(sealProblems, p)
					}
				}
			}
			out := cmd.OutOrStdout()
			if len(problems)+len(sealProblems) > 0 {
				for _, p := range append(problems, sealProblems...) {
					fmt.Fprintln(out, p)
				}
				msg := fmt.Sprintf("safethird: %s: %d problem(s)", dir, len(problems)+len(sealProblems))
				if len(sealProblems) > 0 {
					msg += fmt.Sprintf("; the seal does not match: while editing, check with --unsealed, then `safethird dataset seal %s`", dir)
				}
				return &exitError{code: 1, msg: msg}
			}
			printCounts(out, snap)
			fmt.Fprintf(out, "expectations: %d case(s) hold\n", exp.cases)
			switch {
			case unsealed:
				fmt.Fprintln(out, "seal:         not checked (--unsealed)")
			case pub != nil:
				fmt.Fprintf(out, "seal:         %s matches, signature verified\n", dataset.ManifestFile)
			default:
				fmt.Fprintf(out, "seal:         %s matches (signature not checked)\n", dataset.ManifestFile)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&unsealed, "unsealed", false, "check the content only, not the seal (for a copy being edited)")
	fl.StringVar(&publicKey, "public-key", "", "PEM ed25519 public key the seal's signature must verify with")
	maxCostFlag(fl, &maxCost)
	return cmd
}

func newSealCommand() *cobra.Command {
	var (
		keyFile  string
		maxCost  uint64
		sequence uint64
	)
	cmd := &cobra.Command{
		Use:   "seal DIR",
		Short: "Validate a dataset directory and its expectations, and write its seal (manifest.json), signed with --key",
		Long: `seal validates a dataset directory and runs its expectations (tests/) and,
when there is no problem and every case holds, writes manifest.json into it:
every file's SHA-256 (tests/ included), the record counts, the revision, the
release's sequence number and the day. serve loads a directory only when
every file matches its seal.

The sequence is the previous manifest's plus one when anything changed, and
unchanged (with its day) when nothing did, so sealing again is idempotent;
--sequence sets it, and must be higher than the previous one. A server with
--dataset-public-key refuses a live dataset whose sequence is lower than
the one it serves.

With --key (an ed25519 private key in PEM, from 'safethird dataset keygen'
or 'openssl genpkey -algorithm ed25519') it also writes manifest.json.sig,
which serve --dataset-public-key requires; without it an earlier signature
is removed, as it signed another manifest.`,
		Example: `  safethird dataset seal data
  safethird dataset seal --key dataset-key.pem /srv/release/dataset-2026-11`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			var key ed25519.PrivateKey
			if keyFile != "" {
				var err error
				if key, err = readPrivateKey(keyFile); err != nil {
					return usageError("--key: %v", err)
				}
			}
			var exp expectations
			m, err := dataset.LoadOptions{MaxConditionCost: maxCost, Check: exp.check}.SealWith(dir, dataset.SealOptions{Key: key, Sequence: sequence})
			problems, err := problemLines(err)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(out, p)
				}
				return &exitError{code: 1, msg: fmt.Sprintf("safethird: %s: %d problem(s); not sealed", dir, len(problems))}
			}
			signed := "unsigned"
			if key != nil {
				signed = "signed (" + dataset.SignatureFile + ")"
			}
			fmt.Fprintf(out, "sealed %s: %d files, %s, %d expectation case(s) hold\nrevision: %s\nsequence: %d, sealed on %s\n",
				dir, len(m.Files), signed, exp.cases, m.Revision, m.Sequence, m.SealedOn)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&keyFile, "key", "", "PEM ed25519 private key to sign the seal with")
	fl.Uint64Var(&sequence, "sequence", 0, "the release's sequence number (default: the previous manifest's, plus one when anything changed)")
	maxCostFlag(fl, &maxCost)
	return cmd
}

// problemLines returns a dataset's problems, one a line, when err is a
// *dataset.ValidationError; any other error is returned as it is.
func problemLines(err error) ([]string, error) {
	var verr *dataset.ValidationError
	if !errors.As(err, &verr) {
		return nil, err
	}
	lines := make([]string, len(verr.Problems))
	for i, p := range verr.Problems {
		lines[i] = p.String()
	}
	return lines, nil
}

// printCounts prints what validate reports of a good dataset.
func printCounts(out io.Writer, snap *dataset.Snapshot) {
	c := snap.Counts()
	fmt.Fprintf(out, "countries:    %d (%d curated)\n", c.Countries, c.CuratedCountries)
	fmt.Fprintf(out, "frameworks:   %d\n", c.Frameworks)
	fmt.Fprintf(out, "agreements:   %d\n", c.Agreements)
	fmt.Fprintf(out, "designations: %d\n", c.Designations)
	fmt.Fprintf(out, "sources:      %d\n", c.Sources)
	fmt.Fprintf(out, "findings:     %d\n", c.Findings)
	fmt.Fprintf(out, "revision: %s\n", snap.Revision())
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
