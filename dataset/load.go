package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"buf.build/go/protoyaml"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// MaxFileSize is the largest record file the loader reads; larger files are
// refused before parsing, so a runaway file cannot exhaust memory.
const MaxFileSize = 1 << 20

// isoFile is the ISO 3166-1 list within a dataset.
const isoFile = "iso3166/iso_3166-1.json"

// kind describes one directory of records.
type kind struct {
	dir    string
	newMsg func() proto.Message
}

// kinds are the record directories, in the order the loader reads them.
var kinds = []kind{
	{"sources", func() proto.Message { return &safethirdv1.Source{} }},
	{"countries", func() proto.Message { return &safethirdv1.Country{} }},
	{"frameworks", func() proto.Message { return &safethirdv1.Framework{} }},
	{"agreements", func() proto.Message { return &safethirdv1.Agreement{} }},
	{"designations", func() proto.Message { return &safethirdv1.Designation{} }},
	{"findings", func() proto.Message { return &safethirdv1.Finding{} }},
}

// record is one parsed file: its message and its YAML tree, kept to locate
// problems found after parsing.
type record struct {
	file string
	id   string // the file name without ".yaml"
	root *yaml.Node
	msg  proto.Message
}

// LoadDir loads the dataset in dir.
func LoadDir(dir string) (*Snapshot, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	return Load(os.DirFS(dir))
}

// Load reads, validates and indexes the dataset in fsys. On bad data it
// returns a *ValidationError listing every problem found.
func Load(fsys fs.FS) (*Snapshot, error) {
	env, err := condition.NewEnv()
	if err != nil {
		return nil, err
	}
	l := &loader{env: env, broken: map[string]bool{}}
	records := map[string][]*record{}
	for _, k := range kinds {
		records[k.dir] = l.readKind(fsys, k)
	}
	iso := l.readISO(fsys)
	if l.fatal != nil {
		return nil, l.fatal
	}
	snap := l.build(iso, records)
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool {
			a, b := l.problems[i], l.problems[j]
			if a.File != b.File {
				return a.File < b.File
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, &ValidationError{Problems: l.problems}
	}
	return snap, nil
}

type loader struct {
	env      *condition.Env
	problems []Problem
	// broken holds "dir/id" of files that failed to parse: their own
	// problems are reported, so references to them are not reported again.
	broken map[string]bool
	fatal  error // an I/O error that is not a problem with the data
}

func (l *loader) problem(file string, line, col int, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// at records a problem at the node that path names in r, or the nearest
// node on the way to it.
func (l *loader) at(r *record, p []any, format string, args ...any) {
	line, col := locate(r.root, p)
	l.problem(r.file, line, col, format, args...)
}

func (l *loader) readKind(fsys fs.FS, k kind) []*record {
	entries, err := fs.ReadDir(fsys, k.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		l.fatal = fmt.Errorf("read %s: %w", k.dir, err)
		return nil
	}
	var out []*record
	for _, e := range entries {
		file := path.Join(k.dir, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			l.problem(file, 0, 0, "unexpected entry: %s/ holds only .yaml record files", k.dir)
			continue
		}
		if r := l.readRecord(fsys, file, k); r != nil {
			out = append(out, r)
		} else {
			l.broken[path.Join(k.dir, strings.TrimSuffix(e.Name(), ".yaml"))] = true
		}
	}
	return out
}

func (l *loader) readRecord(fsys fs.FS, file string, k kind) *record {
	info, err := fs.Stat(fsys, file)
	if err != nil {
		l.problem(file, 0, 0, "cannot read: %v", errors.Unwrap(err))
		return nil
	}
	if info.Size() > MaxFileSize {
		l.problem(file, 0, 0, "file is %d bytes, over the %d-byte limit", info.Size(), MaxFileSize)
		return nil
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		l.problem(file, 0, 0, "cannot read: %v", errors.Unwrap(err))
		return nil
	}
	data = normalizeBreaks(data)
	return l.parseRecord(file, data, k)
}

// lineBreaks rewrites every line break the YAML parser recognizes as LF.
// yaml.v3 also breaks lines at CR, NEL, LS and PS, but protoyaml splits its
// source on LF alone to quote the line of a problem, and indexed past its
// last line when the two disagreed (a panic found by FuzzLoad). Rewriting
// them as LF changes no YAML meaning: they are line breaks either way.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

func normalizeBreaks(data []byte) []byte {
	if !bytes.ContainsAny(data, "\r\u0085\u2028\u2029") {
		return data
	}
	return []byte(lineBreaks.Replace(string(data)))
}

// parseRecord parses one record file. A panic in the YAML libraries is a
// bug there, not a reason to take the server down with a bad file: it
// becomes a problem with the file.
func (l *loader) parseRecord(file string, data []byte, k kind) (r *record) {
	defer func() {
		if p := recover(); p != nil {
			l.problem(file, 0, 0, "the YAML parser failed on this file (%v); check it for unusual characters", p)
			r = nil
		}
	}()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrorLine(err)
		l.problem(file, line, 1, "invalid YAML: %s", msg)
		return nil
	}
	if root.Kind == 0 {
		l.problem(file, 0, 0, "file is empty")
		return nil
	}
	msg := k.newMsg()
	if err := (protoyaml.UnmarshalOptions{Path: file}).Unmarshal(data, msg); err != nil {
		l.protoyamlProblems(file, err)
		return nil
	}
	return &record{file: file, id: strings.TrimSuffix(path.Base(file), ".yaml"), root: &root, msg: msg}
}

// protoyamlProblems turns protoyaml's errors ("file:line:col message",
// then a source excerpt) into problems.
func (l *loader) protoyamlProblems(file string, err error) {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		first, _, _ := strings.Cut(e.Error(), "\n")
		rest, ok := strings.CutPrefix(first, file+":")
		if !ok {
			l.problem(file, 0, 0, "%s", first)
			continue
		}
		pos, msg, _ := strings.Cut(rest, " ")
		lineStr, colStr, _ := strings.Cut(pos, ":")
		line, _ := strconv.Atoi(lineStr)
		col, _ := strconv.Atoi(colStr)
		l.problem(file, line, col, "%s", msg)
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine extracts the line from a YAML syntax error.
func yamlErrorLine(err error) (int, string) {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

// isoCountry is one entry of the ISO 3166-1 list.
type isoCountry struct {
	Alpha2 string `json:"alpha_2"`
	Name   string `json:"name"`
}

func (l *loader) readISO(fsys fs.FS) []isoCountry {
	data, err := fs.ReadFile(fsys, isoFile)
	if err != nil {
		l.problem(isoFile, 0, 0, "cannot read the ISO 3166-1 list: %v", errors.Unwrap(err))
		return nil
	}
	var doc struct {
		Countries []isoCountry `json:"3166-1"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		l.problem(isoFile, 0, 0, "invalid JSON: %v", err)
		return nil
	}
	if len(doc.Countries) == 0 {
		l.problem(isoFile, 0, 0, "no countries in the ISO 3166-1 list")
	}
	return doc.Countries
}

// locate finds the line and column of the node at path (map keys as
// strings, list indexes as ints) under root, or of the deepest node found.
func locate(root *yaml.Node, p []any) (int, int) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range p {
		next := child(n, step)
		if next == nil {
			break
		}
		n = next
	}
	return n.Line, n.Column
}

func child(n *yaml.Node, step any) *yaml.Node {
	switch s := step.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s < len(n.Content) {
			return n.Content[s]
		}
	}
	return nil
}
