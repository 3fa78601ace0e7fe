package expectation

import (
	"fmt"
	"strings"

	"buf.build/go/protovalidate"
	"buf.build/go/protoyaml"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxCases bounds the cases of a dataset, so that a hostile tests/ costs a
// refusal, not minutes of the server's CPU at every load.
const maxCases = 2000

// testCase is one case of a file: a request and what must hold of its answer.
type testCase struct {
	file      string
	line, col int
	name      string
	// country or route is the request; exactly one is set.
	country *safethirdv1.AssessCountryRequest
	route   *safethirdv1.AssessRouteRequest
	// request is the request's node, where a refusal is reported.
	request *yaml.Node
	want    []assertion
}

// assertion is one path into the answer and the value it must have.
type assertion struct {
	path string
	key  *yaml.Node // the path as written, where a failure is reported
	want *yaml.Node
}

// parser reads the files of one dataset, recording problems.
type parser struct {
	snap     *dataset.Snapshot
	rules    protovalidate.Validator
	problems []dataset.Problem
	cases    int
}

func (p *parser) problem(file string, n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.problems = append(p.problems, dataset.Problem{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

// parse reads one file's cases; a case with a problem is left out, its
// problem recorded.
func (p *parser) parse(f dataset.TestFile) []*testCase {
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		p.problem(f.Path, nil, "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.problem(f.Path, nil, "file is empty: a file of expectations holds cases:")
		return nil
	}
	if a := dataset.FirstAlias(&doc); a != nil {
		p.problem(f.Path, a, "YAML alias *%s: expectations do not use anchors and aliases; write the value out", a.Value)
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.problem(f.Path, root, "want a mapping with one key, cases:")
		return nil
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Value != "cases" {
			p.problem(f.Path, k, "unknown key %q: a file of expectations holds only cases:", k.Value)
		} else {
			list = root.Content[i+1]
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		p.problem(f.Path, root, "cases: want a list of cases")
		return nil
	}
	names := map[string]bool{}
	var out []*testCase
	for _, n := range list.Content {
		if p.cases++; p.cases > maxCases {
			p.problem(f.Path, n, "more than %d cases in the dataset: split the load, or keep the cases that decide something", maxCases)
			return out
		}
		c := p.testCase(f, n)
		if c == nil {
			continue
		}
		if names[c.name] {
			p.problem(f.Path, n, "case %q is named twice in this file: a failure must say which case it is", c.name)
			continue
		}
		names[c.name] = true
		out = append(out, c)
	}
	return out
}

// testCase reads one case, or returns nil after recording its problems.
func (p *parser) testCase(f dataset.TestFile, n *yaml.Node) *testCase {
	if n.Kind != yaml.MappingNode {
		p.problem(f.Path, n, "a case is a mapping: name, sources, assess_country or assess_route, want")
		return nil
	}
	c := &testCase{file: f.Path, line: n.Line, col: n.Column}
	before := len(p.problems)
	var sources, want *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			c.name = v.Value
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				p.problem(f.Path, v, "name: want the case's name, a line that says what it checks")
			}
		case "sources":
			sources = v
		case "assess_country", "assess_route":
			if c.request != nil {
				p.problem(f.Path, k, "a case asks one question: assess_country or assess_route, not both")
				continue
			}
			c.request = v
			if k.Value == "assess_country" {
				c.country = &safethirdv1.AssessCountryRequest{}
				p.request(f, n, i, c.country)
			} else {
				c.route = &safethirdv1.AssessRouteRequest{}
				p.request(f, n, i, c.route)
			}
		case "want":
			want = v
		default:
			p.problem(f.Path, k, "unknown key %q: a case has name, sources, assess_country or assess_route, want", k.Value)
		}
	}
	if c.name == "" {
		p.problem(f.Path, n, "name is required: a failure says which case failed")
	}
	if c.request == nil {
		p.problem(f.Path, n, "assess_country or assess_route is required: the question the case asks")
	}
	p.sources(f, n, sources)
	c.want = p.assertions(f, n, want)
	if len(p.problems) > before {
		return nil
	}
	return c
}

// sources checks that the case names what decides it, each a source of
// the dataset: a case is a claim about the law, and says where it comes from.
func (p *parser) sources(f dataset.TestFile, c, n *yaml.Node) {
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		at := c
		if n != nil {
			at = n
		}
		p.problem(f.Path, at, "sources: want the ids of the sources that decide the case, a list of at least one")
		return
	}
	for _, s := range n.Content {
		if _, ok := p.snap.Source(s.Value); !ok || s.Kind != yaml.ScalarNode {
			p.problem(f.Path, s, "sources: %q names no source in sources/", s.Value)
		}
	}
}

// assertions reads want: a mapping of paths to values.
func (p *parser) assertions(f dataset.TestFile, c, n *yaml.Node) []assertion {
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		at := c
		if n != nil {
			at = n
		}
		p.problem(f.Path, at, "want: a mapping of paths into the answer to the values they must have, at least one")
		return nil
	}
	var out []assertion
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, assertion{path: n.Content[i].Value, key: n.Content[i], want: n.Content[i+1]})
	}
	return out
}

// request reads the value of the case's key i (its request) into msg with
// protoyaml, so that an unknown field or a broken field rule is reported
// at its own line and column: the file is given to protoyaml with every
// line outside the request blanked, which keeps the positions.
func (p *parser) request(f dataset.TestFile, c *yaml.Node, i int, msg proto.Message) {
	key, val := c.Content[i], c.Content[i+1]
	if val.Kind != yaml.MappingNode {
		p.problem(f.Path, val, "%s: want the request, a mapping of its fields", key.Value)
		return
	}
	end := 0 // the first line after the request: the next key of the case, or of anything after it
	for _, n := range nodesAfter(c, i+2) {
		end = n.Line
		break
	}
	lines := strings.Split(string(f.Data), "\n")
	for j := range lines {
		switch ln := j + 1; {
		case ln < val.Line || (end > 0 && ln >= end):
			lines[j] = ""
		case ln == val.Line:
			lines[j] = strings.Repeat(" ", min(val.Column-1, len(lines[j]))) + lines[j][min(val.Column-1, len(lines[j])):]
		}
	}
	if end == 0 {
		// The request is the last thing of its case: what follows (another
		// case, at a column left of it) ends it.
		for j := val.Line; j < len(lines); j++ {
			if t := strings.TrimLeft(lines[j], " "); t != "" && !strings.HasPrefix(t, "#") && len(lines[j])-len(t) < val.Column-1 {
				for k := j; k < len(lines); k++ {
					lines[k] = ""
				}
				break
			}
		}
	}
	opts := protoyaml.UnmarshalOptions{Path: f.Path, Validator: fieldRules{p.rules}}
	if err := opts.Unmarshal([]byte(strings.Join(lines, "\n")), msg); err != nil {
		p.problems = append(p.problems, dataset.YAMLProblems(f.Path, err)...)
		return
	}
	if asOf, _ := fieldString(msg, "as_of"); asOf == "" {
		p.problem(f.Path, val, "%s.as_of is required: a case holds on a date, and without one it would change meaning from day to day", key.Value)
	}
}

// fieldRules runs the protos' field rules for protoyaml, which reports
// each violation at its line and column.
type fieldRules struct{ v protovalidate.Validator }

func (r fieldRules) Validate(m proto.Message) error { return r.v.Validate(m) }

// nodesAfter returns the keys of mapping c from index i on.
func nodesAfter(c *yaml.Node, i int) []*yaml.Node {
	var out []*yaml.Node
	for ; i < len(c.Content); i += 2 {
		out = append(out, c.Content[i])
	}
	return out
}

// fieldString returns a string field of msg by name.
func fieldString(msg proto.Message, name string) (string, bool) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return "", false
	}
	return m.Get(fd).String(), true
}
