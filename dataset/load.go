package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"buf.build/go/protovalidate"
	"buf.build/go/protoyaml"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/internal/safefile"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Limits on what the loader reads, so that a runaway or hostile file costs
// an error, not the server's memory.
const (
	// MaxFileSize is the largest file the loader reads (a record, the ISO
	// list; the manifest has MaxManifestSize); larger files are refused
	// before parsing.
	MaxFileSize = 1 << 20
	// MaxDatasetSize bounds the bytes of all files together: the curated
	// dataset is 1.2 MB, a synthetic one of 20,000 files (bench/syndata)
	// about 45 MB.
	MaxDatasetSize = 128 << 20
)

// isoDir holds the ISO 3166-1 list (isoFile) and its notes; every file in
// it is part of the dataset, only isoFile is parsed.
const (
	isoDir  = "iso3166"
	isoFile = isoDir + "/iso_3166-1.json"
)

// kind describes one directory of records.
type kind struct {
	dir    string
	newMsg func() proto.Message
	// archive is true for sources/, which holds beside each record the
	// text an editor read (<id>.txt), against which quotes are checked.
	archive bool
}

// archiveHint completes the "holds only" problem for a directory that also
// holds archived texts.
func (k kind) archiveHint() string {
	if k.archive {
		return " and the texts read (<id>" + textSuffix + ")"
	}
	return ""
}

// kinds are the record directories, in the order the loader reads them.
// Every dataset has records of every kind: a directory missing or empty
// is a dataset half deployed, not a smaller dataset.
var kinds = []kind{
	{"sources", func() proto.Message { return &safethirdv1.Source{} }, true},
	{"countries", func() proto.Message { return &safethirdv1.Country{} }, false},
	{"frameworks", func() proto.Message { return &safethirdv1.Framework{} }, false},
	{"agreements", func() proto.Message { return &safethirdv1.Agreement{} }, false},
	{"designations", func() proto.Message { return &safethirdv1.Designation{} }, false},
	{"findings", func() proto.Message { return &safethirdv1.Finding{} }, false},
}

// record is one parsed file: its message and its YAML tree, kept to locate
// problems found after parsing.
type record struct {
	file string
	id   string // the file name without ".yaml"
	// data is the file as parsed. Its YAML nodes, which give a problem's
	// line and column, are parsed again only for a problem (root):
	// protoyaml parses the file for the message, so a record without
	// problems is parsed once.
	data []byte
	msg  proto.Message
}

// root is the record's YAML document, for a problem's position.
func (r *record) root() *yaml.Node {
	var root yaml.Node
	_ = yaml.Unmarshal(r.data, &root) // it parsed when the record was read
	return &root
}

// LoadOptions say how a dataset is loaded. The zero value checks the
// content only: what an editor works on. A server loads with Sealed.
type LoadOptions struct {
	// Sealed requires the manifest that `safethird dataset seal` writes:
	// every file it lists present with its SHA-256, no other file, and the
	// revision and counts it records.
	Sealed bool
	// PublicKey, when set, requires the manifest's signature to verify
	// with it; it implies Sealed.
	PublicKey ed25519.PublicKey
	// MaxConditionCost bounds the cost of each CEL condition, estimated
	// when loading and enforced when evaluating; 0 means
	// condition.DefaultMaxCost.
	MaxConditionCost uint64
	// Check, when set, runs on a dataset that has no other problem and
	// returns what it finds wrong, as problems of the dataset: it is how
	// the expectations in tests/ (package expectation, which needs the
	// engine this package cannot import) refuse a dataset whose answers
	// are not what its editors said they must be.
	Check func(*Snapshot) []Problem
}

// Load loads the dataset in fsys, checking its content only.
func Load(fsys fs.FS) (*Snapshot, error) { return LoadOptions{}.Load(fsys) }

// LoadDir loads the dataset in dir, checking its content only.
func LoadDir(dir string) (*Snapshot, error) { return LoadOptions{}.LoadDir(dir) }

// LoadDir loads the dataset in dir, reading only regular files inside it
// (see internal/safefile): a symlink out of it, a device, a FIFO or a
// socket is a problem with that file, and nothing blocks.
func (o LoadOptions) LoadDir(dir string) (*Snapshot, error) {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	defer d.Close()
	return o.Load(d)
}

// Load reads, validates and indexes the dataset in fsys. On bad data it
// returns a *ValidationError listing every problem found.
func (o LoadOptions) Load(fsys fs.FS) (*Snapshot, error) {
	snap, _, err := o.load(fsys)
	return snap, err
}

// load is Load, returning also the files read with their digests.
func (o LoadOptions) load(fsys fs.FS) (*Snapshot, []ManifestEntry, error) {
	env, err := condition.NewEnv(o.MaxConditionCost)
	if err != nil {
		return nil, nil, err
	}
	l := &loader{env: env, rules: protovalidate.GlobalValidator, fsys: fsys, broken: map[string]bool{}, texts: map[string]string{}, normalized: map[string]quoteText{}, digests: map[string]string{}, perFile: map[string]int{}}
	if o.Sealed || o.PublicKey != nil {
		l.readManifest(o.PublicKey)
	}
	records := map[string][]*record{}
	for _, k := range kinds {
		records[k.dir] = l.readKind(k)
	}
	tests := l.readTests()
	iso := l.readISO()
	if iso == nil {
		// Without the list every country code would be a problem too:
		// report what was found so far, not that cascade.
		return nil, nil, l.err()
	}
	snap := l.build(iso, records)
	snap.tests = tests
	l.checkSeal(snap)
	if m := l.manifest; m != nil && len(l.problems) == 0 {
		snap.seal = &SealInfo{Sequence: m.Sequence, SealedOn: m.SealedOn}
	}
	if o.Check != nil && len(l.problems) == 0 {
		for _, p := range o.Check(snap) {
			l.problem(p.File, p.Line, p.Column, "%s", p.Message)
		}
	}
	if err := l.err(); err != nil {
		return nil, nil, err
	}
	return snap, l.entries(), nil
}

type loader struct {
	env *condition.Env
	// rules checks each record against the field rules in the protos:
	// protovalidate's global validator, which the engine, the
	// expectations and the server's requests share. It compiles each
	// message's rules on first use and is safe for concurrent use, so a
	// load after the first (a reload, a test's server) compiles none, and
	// the process builds one CEL environment for them all, not one each.
	rules    protovalidate.Validator
	fsys     fs.FS
	problems []Problem
	// perFile counts each file's problems; past maxProblemsPerFile they
	// are counted, not kept.
	perFile map[string]int
	// broken holds "dir/id" of files that failed to parse: their own
	// problems are reported, so references to them are not reported again.
	broken map[string]bool

	// texts holds each source's archived text (sources/<id>.txt), raw, by
	// source id; normalized holds the same texts normalized for matching
	// quotes.
	texts      map[string]string
	normalized map[string]quoteText

	// digests holds the hex SHA-256 of every file read, by path.
	digests map[string]string
	// size is the bytes read so far, bounded by MaxDatasetSize.
	size int64
	// manifest is the seal being checked; nil when loading unsealed.
	manifest *Manifest
	sealed   map[string]string // manifest's digests by path
}

// at records a problem at the node that path names in r, or the nearest
// node on the way to it.
func (l *loader) at(r *record, p []any, format string, args ...any) {
	line, col := locate(r.root(), p)
	l.problem(r.file, line, col, format, args...)
}

func (l *loader) readKind(k kind) []*record {
	entries, err := fs.ReadDir(l.fsys, k.dir)
	if errors.Is(err, fs.ErrNotExist) {
		l.problem(k.dir+"/", 0, 0, "missing: every dataset has %s; was the directory moved or deleted?", kindDirs())
		return nil
	}
	if err != nil {
		l.problem(k.dir+"/", 0, 0, "cannot read: %v", errors.Unwrap(err))
		return nil
	}
	// Files are read here, one after the other, in the directory's order
	// (the size bound, the digests and the seal's checks see them as
	// before), then parsed on every core the process has; each file's
	// result goes in its entry's slot, and the slots are taken in order,
	// so the records and the problems are the same at every load.
	parsed := make([]parsed, len(entries))
	var jobs []func()
	for i, e := range entries {
		file := path.Join(k.dir, e.Name())
		if k.archive && !e.IsDir() && strings.HasSuffix(e.Name(), textSuffix) {
			if raw, ok := l.readText(file); ok {
				jobs = append(jobs, func() { parsed[i].text = newQuoteText(raw) })
			}
			continue
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			l.problem(file, 0, 0, "unexpected entry: %s/ holds only .yaml record files%s", k.dir, k.archiveHint())
			continue
		}
		if data := l.read(file); data != nil {
			jobs = append(jobs, func() { parsed[i] = parseRecord(l.rules, file, normalizeBreaks(data), k) })
		} else {
			l.broken[path.Join(k.dir, strings.TrimSuffix(e.Name(), ".yaml"))] = true
		}
	}
	inParallel(jobs)
	var out []*record
	for i, e := range entries {
		p := &parsed[i]
		if p.text != "" {
			l.normalized[strings.TrimSuffix(e.Name(), textSuffix)] = p.text
		}
		for _, pr := range p.problems {
			l.problem(pr.File, pr.Line, pr.Column, "%s", pr.Message)
		}
		switch {
		case p.rec != nil:
			out = append(out, p.rec)
		case p.problems != nil:
			l.broken[path.Join(k.dir, strings.TrimSuffix(e.Name(), ".yaml"))] = true
		}
	}
	if len(entries) == 0 {
		l.problem(k.dir+"/", 0, 0, "no record files: every dataset has %s; was the directory emptied?", kindDirs())
	}
	return out
}

// inParallel runs jobs on as many goroutines as the process has cores,
// each taking the next job not yet taken, and returns when all are done.
// A job is a file's parse, a few hundred µs: a goroutine or a channel
// send each would cost more than their sharing saves. A job that panics
// panics again in the caller, once all have stopped, where the store's
// recovery turns a load's panic into a refused dataset.
func inParallel(jobs []func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var panicked atomic.Pointer[any]
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					panicked.CompareAndSwap(nil, &p)
				}
			}()
			for i := next.Add(1) - 1; i < int64(len(jobs)); i = next.Add(1) - 1 {
				jobs[i]()
			}
		})
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(*p)
	}
}

// parsed is what a goroutine made of one file read: a record, with the
// problems of its field rules, or only the problems of a file that did not
// parse; or an archived text normalized for its quotes.
type parsed struct {
	rec      *record
	problems []Problem
	text     quoteText
}

// kindDirs lists the record directories for a problem's message.
func kindDirs() string {
	dirs := make([]string, len(kinds))
	for i, k := range kinds {
		dirs[i] = k.dir + "/"
	}
	return strings.Join(dirs, ", ")
}

// read reads one file of the dataset through the size limits, records its
// digest and, when sealed, checks it against the manifest. It returns nil
// after recording the problem when the file cannot be used.
func (l *loader) read(file string) []byte {
	if l.size >= MaxDatasetSize {
		l.problem(file, 0, 0, "not read: the dataset's files are over %d bytes in all", MaxDatasetSize)
		return nil
	}
	data, err := safefile.ReadFS(l.fsys, file, MaxFileSize)
	if err != nil {
		l.problem(file, 0, 0, "cannot read: %v", readError(err))
		return nil
	}
	l.size += int64(len(data))
	sum := sha256.Sum256(data)
	l.digests[file] = hex.EncodeToString(sum[:])
	if !l.matchesSeal(file) {
		return nil
	}
	return data
}

// readError is the reason a read failed, without the path the problem
// already names.
func readError(err error) error {
	for {
		pe, ok := err.(*fs.PathError)
		if !ok {
			return err
		}
		err = pe.Err
	}
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

// parseRecord parses one record file, with rules for the protos' field
// rules. It touches nothing but its arguments, so that files are parsed
// side by side. A panic in the YAML libraries is a bug there, not a reason
// to take the server down with a bad file: it becomes a problem with the
// file.
func parseRecord(rules protovalidate.Validator, file string, data []byte, k kind) (out parsed) {
	defer func() {
		if p := recover(); p != nil {
			out = parsed{problems: []Problem{{File: file, Message: fmt.Sprintf("the YAML parser failed on this file (%v); check it for unusual characters", p)}}}
		}
	}()
	// Aliases are refused before protoyaml expands them; only a file with
	// an anchor can hold one.
	if bytes.Contains(data, []byte(anchorMark)) {
		if p := checkYAML(data); p != nil {
			return parsed{problems: []Problem{p.at(file)}}
		}
	}
	msg := k.newMsg()
	counting := &countingValidator{v: rules}
	err := (protoyaml.UnmarshalOptions{Path: file, Validator: counting}).Unmarshal(data, msg)
	if err != nil || proto.Size(msg) == 0 {
		// Invalid YAML or an empty document: said as such, at its line.
		if p := checkYAML(data); p != nil {
			return parsed{problems: []Problem{p.at(file)}}
		}
	}
	var problems []Problem
	if err != nil {
		problems = YAMLProblems(file, err)
		if len(problems) > counting.violations {
			return parsed{problems: problems} // the record did not parse whole
		}
		// Only the field rules were broken: the record is whole, so the
		// checks across records still see it, and nothing that refers to
		// it is reported missing.
	}
	return parsed{rec: &record{file: file, id: strings.TrimSuffix(path.Base(file), ".yaml"), data: data, msg: msg}, problems: problems}
}

// countingValidator runs the protos' field rules (protovalidate) for
// protoyaml, which reports each violation at its line and column, and
// counts the violations, so a record that breaks only rules can be told
// from one that did not parse.
type countingValidator struct {
	v          protovalidate.Validator
	violations int
}

func (c *countingValidator) Validate(m proto.Message) error {
	err := c.v.Validate(m)
	var verr *protovalidate.ValidationError
	if errors.As(err, &verr) {
		c.violations += len(verr.Violations)
	}
	return err
}

// YAMLProblems turns the error of protoyaml reading file ("file:line:col
// message", then a source excerpt, for each problem) into problems.
func YAMLProblems(file string, err error) []Problem {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var out []Problem
	for _, e := range errs {
		first, _, _ := strings.Cut(e.Error(), "\n")
		rest, ok := strings.CutPrefix(first, file+":")
		if !ok {
			out = append(out, Problem{File: file, Message: first})
			continue
		}
		pos, msg, _ := strings.Cut(rest, " ")
		// A rule on a whole record has an empty field path.
		msg = strings.TrimPrefix(msg, ": ")
		lineStr, colStr, _ := strings.Cut(pos, ":")
		line, _ := strconv.Atoi(lineStr)
		col, _ := strconv.Atoi(colStr)
		out = append(out, Problem{File: file, Line: line, Column: col, Message: msg})
	}
	return out
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

// readISO reads every file of iso3166/, so that each is sealed, and parses
// the list.
func (l *loader) readISO() []isoCountry {
	entries, err := fs.ReadDir(l.fsys, isoDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.problem(isoDir+"/", 0, 0, "cannot read: %v", readError(err))
		return nil
	}
	var list []byte
	found := false
	for _, e := range entries {
		file := path.Join(isoDir, e.Name())
		if e.IsDir() {
			l.problem(file, 0, 0, "unexpected entry: %s/ holds only files", isoDir)
			continue
		}
		data := l.read(file)
		if file == isoFile {
			list, found = data, true
		}
	}
	if !found {
		l.problem(isoFile, 0, 0, "missing: the ISO 3166-1 list is part of every dataset")
	}
	if list == nil {
		return nil // its problem is recorded
	}
	var doc struct {
		Countries []isoCountry `json:"3166-1"`
	}
	if err := json.Unmarshal(list, &doc); err != nil {
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

// anchorMark starts every YAML anchor; without one, a file can hold no
// alias that resolves (yaml.v3 refuses an alias to an unknown anchor).
const anchorMark = "&"

// parseProblem is a problem found parsing a record, at its position.
type parseProblem struct {
	line, column int
	msg          string
}

// at is the problem in file.
func (p *parseProblem) at(file string) Problem {
	return Problem{File: file, Line: p.line, Column: p.column, Message: p.msg}
}

// checkYAML parses data into YAML nodes and returns the problem of a file
// that is not valid YAML, is empty or holds an alias; nil for a good one.
func checkYAML(data []byte) *parseProblem {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrorLine(err)
		return &parseProblem{line, 1, "invalid YAML: " + msg}
	}
	if root.Kind == 0 {
		return &parseProblem{msg: "file is empty"}
	}
	if alias := FirstAlias(&root); alias != nil {
		return &parseProblem{alias.Line, alias.Column, fmt.Sprintf("YAML alias *%s: records do not use anchors and aliases; write the value out", alias.Value)}
	}
	return nil
}

// FirstAlias returns the first alias node under n, in document order, or
// nil. Records never need aliases, and a file of them is how YAML is made
// to cost far more than its size: refusing the first one is the cheap,
// certain bound.
func FirstAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := FirstAlias(c); a != nil {
			return a
		}
	}
	return nil
}
