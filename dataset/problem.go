package dataset

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Problem is one thing wrong with a dataset, located in its file.
type Problem struct {
	// File is the path of the file within the dataset, e.g. "findings/mx-x.yaml".
	File string
	// Line and Column locate the problem, 1-based; 0 when it concerns the whole file.
	Line, Column int
	// Message says what is wrong.
	Message string
}

// String formats the problem as "file:line:column: message".
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// ValidationError lists every problem found in a dataset.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("dataset has %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// Bounds on the problems reported, so a file of ten thousand bad lines is
// refused with a readable list, not ten thousand log lines.
const (
	maxProblemsPerFile = 20
	maxProblems        = 200
)

// problem records a problem, keeping at most maxProblemsPerFile for one
// file and maxProblems in all; the others are counted.
func (l *loader) problem(file string, line, col int, format string, args ...any) {
	l.perFile[file]++
	if l.perFile[file] > maxProblemsPerFile || len(l.problems) >= maxProblems {
		return
	}
	l.problems = append(l.problems, Problem{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// err returns the problems recorded as a *ValidationError, sorted by file
// and position, each file's unlisted ones counted at its end; nil when
// there are none.
func (l *loader) err() error {
	if len(l.problems) == 0 {
		return nil
	}
	kept := map[string]int{}
	for _, p := range l.problems {
		kept[p.File]++
	}
	for file, n := range l.perFile {
		if more := n - kept[file]; more > 0 && kept[file] > 0 {
			l.problems = append(l.problems, Problem{File: file, Line: math.MaxInt, Message: fmt.Sprintf("and %d more problem(s) in this file, not listed", more)})
		}
	}
	slices.SortStableFunc(l.problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	for i := range l.problems {
		if l.problems[i].Line == math.MaxInt {
			l.problems[i].Line = 0
		}
	}
	if skipped := len(l.perFile) - len(kept); skipped > 0 {
		l.problems = append(l.problems, Problem{File: "(dataset)", Message: fmt.Sprintf("and problems in %d more file(s), not listed", skipped)})
	}
	return &ValidationError{Problems: l.problems}
}
