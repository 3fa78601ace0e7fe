package answerdiff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists the renderings of a Report.
func Formats() []string { return []string{"text", "markdown", "json"} }

// Write renders r in format (one of Formats).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return r.writeText(w)
	case "markdown":
		return r.writeMarkdown(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats(), ", "))
}

// span is a change's dates as a reader says them.
func (c Change) span() string {
	switch {
	case c.Until == "":
		return "from " + c.From
	case c.Until == c.From:
		return "on " + c.From
	}
	return c.From + " to " + c.Until
}

// who is the question of a change: framework, country, state and group.
func (c Change) who() string {
	s := c.Framework + " " + c.Country
	if c.ApplyingState != "" {
		s += " (applied by " + c.ApplyingState + ")"
	}
	if c.Group != "" {
		s += ", " + c.Group
	} else {
		s += ", no applicant"
	}
	return s
}

// moves lists what moved, "field: before -> after", for each field compared.
func (c Change) moves() []string {
	var out []string
	add := func(name, before, after string) {
		if before != after {
			out = append(out, fmt.Sprintf("%s: %s -> %s", name, orNone(before), orNone(after)))
		}
	}
	add("refused", c.Before.Refused, c.After.Refused)
	add("determination", c.Before.Determination, c.After.Determination)
	add("practice", c.Before.Practice, c.After.Practice)
	add("applicant outcome", c.Before.ApplicantOutcome, c.After.ApplicantOutcome)
	for _, cc := range c.Criteria {
		add("criterion "+cc.ID, cc.Before, cc.After)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (r *Report) header() string {
	return fmt.Sprintf("%d dates (%s to %s, the change points of both datasets) x %d questions (framework, country, state, group)",
		r.Dates, r.First, r.Last, r.Questions)
}

func (r *Report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "old: %s\nnew: %s\ncompared: %s\n", r.Old, r.New, r.header())
	fmt.Fprintf(&b, "records changed: %d\n", len(r.Records))
	for _, rc := range r.Records {
		fmt.Fprintf(&b, "  %-8s %s\n", rc.Change, rc.Record)
	}
	fmt.Fprintf(&b, "answers changed: %d\n", len(r.Changes))
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "  %s, %s\n", c.who(), c.span())
		for _, m := range c.moves() {
			fmt.Fprintf(&b, "    %s\n", m)
		}
		if len(c.Records) > 0 {
			fmt.Fprintf(&b, "    records: %s\n", strings.Join(c.Records, ", "))
		}
	}
	if len(r.Changes) == 0 {
		b.WriteString("no answer differs\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Dataset release: answers changed\n\n- old: `%s`\n- new: `%s`\n- compared: %s\n\n", r.Old, r.New, r.header())
	fmt.Fprintf(&b, "## Records changed (%d)\n\n", len(r.Records))
	if len(r.Records) == 0 {
		b.WriteString("None.\n")
	}
	for _, rc := range r.Records {
		fmt.Fprintf(&b, "- %s `%s`\n", rc.Change, rc.Record)
	}
	fmt.Fprintf(&b, "\n## Answers changed (%d)\n\n", len(r.Changes))
	if len(r.Changes) == 0 {
		b.WriteString("No answer differs.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| Framework | Country | Applicant | Dates | What changed | Records |\n|---|---|---|---|---|---|\n")
	for _, c := range r.Changes {
		applicant := "none"
		if c.Group != "" {
			applicant = c.Group
		}
		country := c.Country
		if c.ApplyingState != "" {
			country += " (applied by " + c.ApplyingState + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", c.Framework, country, applicant, c.span(),
			strings.Join(c.moves(), "; "), strings.Join(c.Records, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
