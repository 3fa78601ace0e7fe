package httpdoor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/safethird/safethird/server/rpcstatus"
)

// bodyRoute is a REST route that takes the whole request but its path's
// fields in its body (body "*" in its google.api.http rule).
type bodyRoute struct {
	template string                         // as in the rule
	path     *regexp.Regexp                 // the template, each {field} a group
	fields   []protoreflect.FieldDescriptor // the path's fields, in the groups' order
}

// pathVariable is a {field} of a path template, and the same once quoted
// by regexp.QuoteMeta.
var (
	pathVariable       = regexp.MustCompile(`\{([a-z_]+)\}`)
	quotedPathVariable = regexp.MustCompile(`\\\{[a-z_]+\\\}`)
)

// bodyRoutes are those routes, from the google.api.http rules of services.
func bodyRoutes(services ...string) ([]bodyRoute, error) {
	var routes []bodyRoute
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%s is not a service", name)
		}
		for i := range sd.Methods().Len() {
			method := sd.Methods().Get(i)
			rule, _ := proto.GetExtension(method.Options(), annotations.E_Http).(*annotations.HttpRule)
			template := rule.GetPost()
			if rule.GetBody() != "*" || template == "" {
				continue
			}
			if strings.ContainsAny(pathVariable.ReplaceAllString(template, ""), "{}") {
				return nil, fmt.Errorf("%s: path template %q: only {field} variables are supported", method.FullName(), template)
			}
			r := bodyRoute{
				template: template,
				path:     regexp.MustCompile("^" + quotedPathVariable.ReplaceAllString(regexp.QuoteMeta(template), "([^/]+)") + "$"),
			}
			for _, m := range pathVariable.FindAllStringSubmatch(template, -1) {
				fd := method.Input().Fields().ByName(protoreflect.Name(m[1]))
				if fd == nil {
					return nil, fmt.Errorf("%s: path template %q: %s has no field %s", method.FullName(), template, method.Input().FullName(), m[1])
				}
				r.fields = append(r.fields, fd)
			}
			routes = append(routes, r)
		}
	}
	return routes, nil
}

// restBodies refuses a REST body that gives a field of its path again,
// with another value: vanguard would keep the path's and drop the body's
// without a word, and the caller would be answered about a country other
// than the one the body names. The same value, in any case (codes are read
// in either), passes. limitBody has read the body whole, within the size
// limit, so reading it again costs a copy.
func (d *Door) restBodies(routes []bodyRoute, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil || !strings.HasPrefix(r.URL.Path, restPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		for _, route := range routes {
			m := route.path.FindStringSubmatch(r.URL.Path)
			if m == nil {
				continue
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return // the client went away: nothing to answer
			}
			setBody(r, body)
			if p := repeatedPathField(route, m[1:], body); p != nil {
				d.refuse(w, r, p)
				return
			}
			break
		}
		next.ServeHTTP(w, r)
	})
}

// repeatedPathField is the error of a body that gives a field of route's
// path, whose values in the path are inPath, another value; nil if none.
func repeatedPathField(route bodyRoute, inPath []string, body []byte) *rpcstatus.RequestError {
	if !mentionsAny(body, route.fields) {
		return nil // the usual case, found without decoding the body
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil // not an object: decoding it says what is wrong with it
	}
	for i, fd := range route.fields {
		if repeatsDifferently(fields, fd, inPath[i]) {
			name := fd.Name()
			return &rpcstatus.RequestError{
				Field: string(name),
				Rule:  fmt.Sprintf("differs from {%s} in the path %s; give it once, in the path", name, route.template),
				Msg:   fmt.Sprintf("the body's %s differs from {%s} in the path %s: give it once, in the path", name, name, route.template),
			}
		}
	}
	return nil
}

// mentionsAny reports whether body holds the proto or JSON name of any of
// fields, which it must to repeat one.
func mentionsAny(body []byte, fields []protoreflect.FieldDescriptor) bool {
	for _, fd := range fields {
		if bytes.Contains(body, []byte(fd.Name())) || bytes.Contains(body, []byte(fd.JSONName())) {
			return true
		}
	}
	return false
}

// repeatsDifferently reports whether fields (a body's) give fd, under its
// proto or JSON name, a value other than inPath, escaped as in the URL.
func repeatsDifferently(fields map[string]json.RawMessage, fd protoreflect.FieldDescriptor, inPath string) bool {
	unescaped, err := url.PathUnescape(inPath)
	if err != nil {
		unescaped = inPath
	}
	for _, key := range []string{string(fd.Name()), fd.JSONName()} {
		raw, ok := fields[key]
		if !ok {
			continue
		}
		var value string
		if json.Unmarshal(raw, &value) != nil || !strings.EqualFold(value, unescaped) {
			return true
		}
	}
	return false
}
