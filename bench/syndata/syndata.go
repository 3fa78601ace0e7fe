// Package syndata writes a synthetic dataset for the bench: a copy of a
// curated dataset with more curated countries, made in generations. Each
// generation clones the curated countries under new codes (ISO 3166-1
// codes no record mentions) with every record that involves them, under
// new ids: the frameworks whose jurisdiction they are, the findings on
// them, their agreements and designations, and the sources those cite
// (record and archived text). A generation is the curated world again,
// apart from it: its agreements bind its own countries, under its own
// frameworks, so the source's answers and expectations (tests/) hold
// unchanged, and a clone's answers have the shapes of its template's.
// Statements are the originals' and say nothing true of the new
// countries. It is bench input, never data: written to a directory the
// caller names and sealed there with `safethird dataset seal`.
package syndata

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options says how large a dataset to write.
type Options struct {
	// Countries is how many curated countries the dataset has in all,
	// the source's included; at most the ISO list's codes no record
	// mentions, plus the source's. The last generation may be partial.
	Countries int
	// SourceCopies is how many copies of each source a generation makes
	// (1 or more): the generation's records cite them in turn, so that
	// a dataset of many files has the same records and more sources.
	SourceCopies int
}

// Summary is what Generate wrote.
type Summary struct {
	// Countries are the curated countries, the source's and the clones'.
	Countries int
	// Files is the number of files written, the manifest not included.
	Files int
}

// Directories of records; textSuffix marks a source's archived text.
const (
	countriesDir    = "countries"
	frameworksDir   = "frameworks"
	findingsDir     = "findings"
	agreementsDir   = "agreements"
	designationsDir = "designations"
	sourcesDir      = "sources"
	testsDir        = "tests"
	textSuffix      = ".txt"
	isoFile         = "iso3166/iso_3166-1.json"
)

// The seal of the source dataset is not copied: the copy is sealed anew.
var notCopied = []string{"manifest.json", "manifest.json.sig"}

// codeFields are the fields that hold a country code; in a clone, a
// curated country's code becomes its clone's.
var codeFields = map[string]bool{
	"code": true, "country_code": true, "party_codes": true, "applied_by_codes": true,
	"destination_code": true, "designating_code": true, "jurisdiction_code": true,
}

// idFields are the fields that name another record by id; in a clone, a
// record cloned in the same generation is named by its clone's id.
var idFields = map[string]bool{"framework_id": true, "agreement_ids": true}

// sourceFields are the fields that cite a source by id.
var sourceFields = map[string]bool{"source_id": true, "conclusion_source_id": true}

// involves names, for each directory of records a generation clones, the
// fields whose codes say which countries a record involves: it is cloned
// when one of them is cloned.
var involves = map[string][]string{
	frameworksDir:   {"jurisdiction_code"},
	findingsDir:     {"country_code"},
	agreementsDir:   {"party_codes"},
	designationsDir: {"country_code", "designating_code"},
}

// alpha2 finds what may be a country code in a record's text.
var alpha2 = regexp.MustCompile(`\b[A-Z]{2}\b`)

// Generate writes into dst (which must not exist) the dataset at src with
// generations of clones of its curated countries up to opt.Countries.
func Generate(src, dst string, opt Options) (Summary, error) {
	if opt.SourceCopies < 1 {
		return Summary{}, fmt.Errorf("source copies %d: at least 1", opt.SourceCopies)
	}
	if _, err := os.Stat(dst); err == nil {
		return Summary{}, fmt.Errorf("%s exists: the dataset is written to a new directory", dst)
	}
	g := &generator{src: src, dst: dst, copies: opt.SourceCopies}
	if err := g.copyAll(); err != nil {
		return Summary{}, err
	}
	if err := g.readRecords(); err != nil {
		return Summary{}, err
	}
	codes, names, err := g.freeCodes()
	if err != nil {
		return Summary{}, err
	}
	clones := max(opt.Countries-len(g.curated), 0)
	if clones > len(codes) {
		return Summary{}, fmt.Errorf("%d countries: the ISO list has %d codes that no record mentions, so at most %d", opt.Countries, len(codes), len(codes)+len(g.curated))
	}
	for gen := 0; gen*len(g.curated) < clones; gen++ {
		c := &generation{g: g, prefix: fmt.Sprintf("syn%d-", gen+1), codes: map[string]string{}, names: map[string]string{},
			ids: map[string]string{}, sources: map[string][]string{}, about: map[string][]string{}}
		for i, tmpl := range g.curated {
			if n := gen*len(g.curated) + i; n < clones {
				c.codes[tmpl] = codes[n]
				c.names[codes[n]] = names[codes[n]]
			}
		}
		if err := c.write(); err != nil {
			return Summary{}, err
		}
	}
	return Summary{Countries: len(g.curated) + clones, Files: g.files}, nil
}

type generator struct {
	src, dst string
	copies   int
	files    int
	// curated are the source's curated countries, sorted.
	curated []string
	// records are the source's records of each directory, parsed.
	records map[string][]*record
	// mentioned are the codes any record's text holds.
	mentioned map[string]bool
}

// record is one YAML record of the source dataset.
type record struct {
	id   string
	node *yaml.Node
}

// copyAll copies every file of src into dst but the seal.
func (g *generator) copyAll() error {
	return filepath.WalkDir(g.src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(g.src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(g.dst, rel), 0o755)
		}
		if slices.Contains(notCopied, rel) || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return g.write(rel, data)
	})
}

func (g *generator) write(rel string, data []byte) error {
	if err := os.WriteFile(filepath.Join(g.dst, rel), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	g.files++
	return nil
}

// readRecords parses the records and notes every code their text holds.
func (g *generator) readRecords() error {
	g.records = map[string][]*record{}
	g.mentioned = map[string]bool{}
	for _, dir := range []string{countriesDir, frameworksDir, findingsDir, agreementsDir, designationsDir, sourcesDir, testsDir} {
		paths, err := filepath.Glob(filepath.Join(g.src, dir, "*.yaml"))
		if err != nil {
			return err
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, c := range alpha2.FindAllString(string(data), -1) {
				g.mentioned[c] = true
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			if len(doc.Content) != 1 {
				return fmt.Errorf("read %s: not one YAML document", p)
			}
			g.records[dir] = append(g.records[dir], &record{strings.TrimSuffix(filepath.Base(p), ".yaml"), doc.Content[0]})
		}
	}
	for _, r := range g.records[countriesDir] {
		g.curated = append(g.curated, r.id)
	}
	if len(g.curated) == 0 {
		return fmt.Errorf("%s: no curated country to clone", filepath.Join(g.src, countriesDir))
	}
	return nil
}

// freeCodes are the ISO codes no record mentions, sorted, with the names
// of all.
func (g *generator) freeCodes() ([]string, map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(g.src, isoFile))
	if err != nil {
		return nil, nil, err
	}
	var iso struct {
		Countries []struct {
			Alpha2 string `json:"alpha_2"`
			Name   string `json:"name"`
		} `json:"3166-1"`
	}
	if err := json.Unmarshal(data, &iso); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", isoFile, err)
	}
	names := map[string]string{}
	var codes []string
	for _, c := range iso.Countries {
		names[c.Alpha2] = c.Name
		if !g.mentioned[c.Alpha2] {
			codes = append(codes, c.Alpha2)
		}
	}
	slices.Sort(codes)
	return codes, names, nil
}

// generation makes one generation of clones.
type generation struct {
	g      *generator
	prefix string
	// codes maps each curated country cloned to its clone's code; names
	// maps a clone's code to its ISO name.
	codes, names map[string]string
	// ids maps the id of each record cloned to its clone's.
	ids map[string]string
	// sources maps a source id cited to its copies' ids; about lists the
	// names of the countries whose records cite it.
	sources map[string][]string
	about   map[string][]string
	// records counts the records cloned: each cites the copies of its
	// sources in turn, all of one copy, so that a finding's conclusion
	// source is among its evidence.
	records int
}

// write clones the countries, then every record that involves one, then
// the sources they cite.
func (c *generation) write() error {
	for _, r := range c.g.records[countriesDir] {
		if code, ok := c.codes[r.id]; ok {
			node := c.rewrite(r.node, c.names[code])
			setScalar(node, "name", c.names[code])
			if err := c.writeRecord(countriesDir, code, node); err != nil {
				return err
			}
		}
	}
	var cloned []struct {
		dir string
		r   *record
	}
	for _, dir := range []string{frameworksDir, findingsDir, agreementsDir, designationsDir} {
		for _, r := range c.g.records[dir] {
			if c.involved(r.node, involves[dir]) {
				c.ids[r.id] = c.prefix + r.id
				cloned = append(cloned, struct {
					dir string
					r   *record
				}{dir, r})
			}
		}
	}
	for _, x := range cloned {
		// A finding's evidence must name its country (dataset/earned.go):
		// the sources it cites say whom they are copied for.
		about := ""
		if x.dir == findingsDir {
			about = c.names[c.codes[scalarOf(x.r.node, "country_code")]]
		}
		node := c.rewrite(x.r.node, about)
		c.records++
		setScalar(node, "id", c.ids[x.r.id])
		if err := c.writeRecord(x.dir, c.ids[x.r.id], node); err != nil {
			return err
		}
	}
	return c.writeSources()
}

// involved says whether one of fields of mapping n holds a code cloned.
func (c *generation) involved(n *yaml.Node, fields []string) bool {
	for _, f := range fields {
		for _, s := range scalars(field(n, f)) {
			if _, ok := c.codes[s.Value]; ok {
				return true
			}
		}
	}
	return false
}

// rewrite is a copy of n with codes, ids and citations made the
// generation's; about, when set, is the name of the country the sources
// cited are copied for.
func (c *generation) rewrite(n *yaml.Node, about string) *yaml.Node {
	out := *n
	out.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		out.Content[i] = c.rewrite(child, about)
	}
	if n.Kind != yaml.MappingNode {
		return &out
	}
	for i := 0; i+1 < len(out.Content); i += 2 {
		key, val := out.Content[i].Value, out.Content[i+1]
		for _, s := range scalars(val) {
			switch {
			case codeFields[key] && c.codes[s.Value] != "":
				s.Value = c.codes[s.Value]
			case idFields[key] && c.ids[s.Value] != "":
				s.Value = c.ids[s.Value]
			case sourceFields[key]:
				s.Value = c.source(s.Value, about)
			}
		}
	}
	return &out
}

// source is the id of the copy of source id that the next citation cites.
func (c *generation) source(id, about string) string {
	copies, ok := c.sources[id]
	if !ok {
		for i := range c.g.copies {
			cp := c.prefix + id
			if i > 0 {
				cp += fmt.Sprintf("-%d", i+1)
			}
			copies = append(copies, cp)
		}
		c.sources[id] = copies
	}
	if about != "" && !slices.Contains(c.about[id], about) {
		c.about[id] = append(c.about[id], about)
	}
	return copies[c.records%len(copies)]
}

// writeSources writes every copy of every source cited: its record under
// the new id and its archived text, when it has one.
func (c *generation) writeSources() error {
	byID := map[string]*record{}
	for _, r := range c.g.records[sourcesDir] {
		byID[r.id] = r
	}
	ids := make([]string, 0, len(c.sources))
	for id := range c.sources {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			return fmt.Errorf("%s: source %q is cited but has no record", c.prefix, id)
		}
		text, err := os.ReadFile(filepath.Join(c.g.src, sourcesDir, id+textSuffix))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		for _, cp := range c.sources[id] {
			node := c.rewrite(r.node, "")
			setScalar(node, "id", cp)
			if about := c.about[id]; len(about) > 0 {
				setScalar(node, "title", scalarOf(node, "title")+" [synthetic copy for "+strings.Join(about, "; ")+"]")
			}
			if err := c.writeRecord(sourcesDir, cp, node); err != nil {
				return err
			}
			if text != nil {
				if err := c.g.write(filepath.Join(sourcesDir, cp+textSuffix), text); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *generation) writeRecord(dir, id string, node *yaml.Node) error {
	data, err := yaml.Marshal(node)
	if err != nil {
		return fmt.Errorf("%s: encode %s/%s: %w", c.prefix, dir, id, err)
	}
	return c.g.write(filepath.Join(dir, id+".yaml"), data)
}

// field is the value of the top-level field key of mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalarOf is the top-level field key of mapping n as a string, or "".
func scalarOf(n *yaml.Node, key string) string {
	if v := field(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// setScalar sets the top-level field key of mapping n, when it has one.
func setScalar(n *yaml.Node, key, value string) {
	if v := field(n, key); v != nil && v.Kind == yaml.ScalarNode {
		v.Value = value
	}
}

// scalars are n itself when a scalar, or its items when a sequence.
func scalars(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, c := range n.Content {
		if c.Kind == yaml.ScalarNode {
			out = append(out, c)
		}
	}
	return out
}

// GenerateSealed generates the dataset and seals it with binary's
// `dataset seal`, which validates it and runs its expectations first.
func GenerateSealed(src, dst, binary string, opt Options) (Summary, error) {
	s, err := Generate(src, dst, opt)
	if err != nil {
		return s, err
	}
	out, err := exec.Command(binary, "dataset", "seal", dst).CombinedOutput()
	if err != nil {
		return s, fmt.Errorf("seal %s: %w\n%s", dst, err, clipOutput(out))
	}
	return s, nil
}

// clipOutput is the start of a command's output, for an error.
func clipOutput(b []byte) string {
	const n = 4096
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
