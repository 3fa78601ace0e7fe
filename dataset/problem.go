package dataset

import (
	"fmt"
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
