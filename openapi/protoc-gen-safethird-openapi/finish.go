package main

import (
	"fmt"
	"slices"
	"strings"

	v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// markdownMethod is the one method whose REST path also answers
// text/markdown, the memo, when asked to with Accept (server's memoOr).
const markdownMethod = "safethird.v1.AssessmentService.AssessCountry"

// errorReasonEnum is the enum whose value names travel in ErrorInfo.reason.
const errorReasonEnum = "safethird.v1.ErrorReason"

// finish completes the merged document from the protos.
func finish(doc *v3.Document, plugin *protogen.Plugin) error {
	keepLastSchemas(doc)
	for _, file := range plugin.Files {
		if !file.Generate {
			continue
		}
		for _, service := range file.Services {
			for _, method := range service.Methods {
				if !proto.HasExtension(method.Desc.Options(), annotations.E_Http) {
					continue
				}
				id := service.GoName + "_" + method.GoName
				op := operation(doc, id)
				if op == nil {
					return fmt.Errorf("%s: gnostic wrote no operation %s", method.Desc.FullName(), id)
				}
				finishOperation(op, method)
			}
		}
		for _, enum := range file.Enums {
			if enum.Desc.FullName() == errorReasonEnum {
				if err := setErrorReasons(doc, enum); err != nil {
					return err
				}
			}
		}
	}
	walkStrings(doc.ProtoReflect(), "description", unindent)
	dropUnreferencedSchemas(doc)
	sortDocument(doc)
	return nil
}

// keepLastSchemas keeps, of schemas with the same name, the last: base.yaml's
// Status is merged after the generator's and replaces it.
func keepLastSchemas(doc *v3.Document) {
	schemas := doc.GetComponents().GetSchemas()
	last := map[string]int{}
	for i, s := range schemas.GetAdditionalProperties() {
		last[s.Name] = i
	}
	var kept []*v3.NamedSchemaOrReference
	for i, s := range schemas.GetAdditionalProperties() {
		if last[s.Name] == i {
			kept = append(kept, s)
		}
	}
	schemas.AdditionalProperties = kept
}

// operation finds the operation with the given id.
func operation(doc *v3.Document, id string) *v3.Operation {
	for _, path := range doc.GetPaths().GetPath() {
		for _, op := range []*v3.Operation{path.Value.Get, path.Value.Post, path.Value.Put, path.Value.Delete, path.Value.Patch} {
			if op.GetOperationId() == id {
				return op
			}
		}
	}
	return nil
}

// finishOperation gives op its summary and its error responses, and the
// memo where the method answers one.
func finishOperation(op *v3.Operation, method *protogen.Method) {
	op.Summary = summary(op.Description)
	rule := proto.GetExtension(method.Desc.Options(), annotations.E_Http).(*annotations.HttpRule)
	hasField := func(name protoreflect.Name) bool { return method.Input.Desc.Fields().ByName(name) != nil }

	// Every call can fail these ways; base.yaml says when.
	errs := []namedResponse{{"400", "InvalidArgument"}, {"401", "Unauthenticated"}}
	// A record named in the path, or a framework by id, may not exist.
	if strings.Contains(pattern(rule), "{") || hasField("framework_id") {
		errs = append(errs, namedResponse{"404", "NotFound"})
	}
	if hasField("dataset_revision") {
		errs = append(errs, namedResponse{"412", "FailedPrecondition"})
	}
	if rule.GetBody() != "" {
		errs = append(errs, namedResponse{"413", "MessageTooLarge"})
	}
	errs = append(errs, namedResponse{"429", "ResourceExhausted"}, namedResponse{"500", "Internal"},
		namedResponse{"503", "Unavailable"}, namedResponse{"504", "DeadlineExceeded"})

	op.Responses.Default = nil // the errors are each named now
	for _, e := range errs {
		op.Responses.ResponseOrReference = append(op.Responses.ResponseOrReference, &v3.NamedResponseOrReference{
			Name: e.status,
			Value: &v3.ResponseOrReference{Oneof: &v3.ResponseOrReference_Reference{
				Reference: &v3.Reference{XRef: "#/components/responses/" + e.component},
			}},
		})
	}
	if method.Desc.FullName() == markdownMethod {
		addMarkdown(op)
	}
}

type namedResponse struct{ status, component string }

// pattern is the path of an HTTP rule, whatever its verb.
func pattern(rule *annotations.HttpRule) string {
	for _, p := range []string{rule.GetGet(), rule.GetPost(), rule.GetPut(), rule.GetDelete(), rule.GetPatch()} {
		if p != "" {
			return p
		}
	}
	return ""
}

// addMarkdown adds the memo to the 200 response: `Accept: text/markdown`
// asks for it instead of the JSON.
func addMarkdown(op *v3.Operation) {
	for _, r := range op.Responses.ResponseOrReference {
		if r.Name != "200" {
			continue
		}
		resp := r.Value.GetResponse()
		resp.Description = "The assessment; with `Accept: text/markdown`, the brief-ready memo instead of the JSON."
		resp.Content.AdditionalProperties = append(resp.Content.AdditionalProperties, &v3.NamedMediaType{
			Name: "text/markdown",
			Value: &v3.MediaType{Schema: &v3.SchemaOrReference{Oneof: &v3.SchemaOrReference_Schema{Schema: &v3.Schema{
				Type:        "string",
				Description: "The memo, as `safethird assess -o markdown` writes it: the question, the two answers, the analysis criterion by criterion, and footnoted citations.",
			}}}},
		})
	}
}

// summary is the first sentence of a method's comment, without its full
// stop: "AssessCountry assesses one country".
func summary(description string) string {
	s := strings.Join(strings.Fields(description), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// setErrorReasons lists the ErrorReason names, all but UNSPECIFIED (never
// sent), as the values ErrorInfo.reason takes.
func setErrorReasons(doc *v3.Document, enum *protogen.Enum) error {
	for _, s := range doc.GetComponents().GetSchemas().GetAdditionalProperties() {
		if s.Name != "ErrorInfo" {
			continue
		}
		for _, p := range s.Value.GetSchema().GetProperties().GetAdditionalProperties() {
			if p.Name != "reason" {
				continue
			}
			reason := p.Value.GetSchema()
			reason.Enum = nil
			for _, v := range enum.Values {
				if v.Desc.Number() != 0 {
					reason.Enum = append(reason.Enum, &v3.Any{Yaml: string(v.Desc.Name())})
				}
			}
			return nil
		}
	}
	return fmt.Errorf("base.yaml has no ErrorInfo schema with a reason for %s", errorReasonEnum)
}

// unindent removes the space that starts each line after the first of a
// comment carried over from the protos ("// foo" gives " foo"), which
// Markdown renderers would keep.
func unindent(s string) string { return strings.ReplaceAll(s, "\n ", "\n") }

// walkStrings applies f to every string field called name, anywhere in m.
func walkStrings(m protoreflect.Message, name protoreflect.Name, f func(string) string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == name && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			m.Set(fd, protoreflect.ValueOfString(f(v.String())))
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				walkStrings(v.List().Get(i).Message(), name, f)
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			walkStrings(v.Message(), name, f)
		}
		return true
	})
}

// dropUnreferencedSchemas removes the schemas that nothing refers to, such
// as the generator's GoogleProtobufAny once base.yaml's Status replaced
// its own: a linter flags an unused schema, and a client generator makes a
// type of it for nothing.
func dropUnreferencedSchemas(doc *v3.Document) {
	const prefix = "#/components/schemas/"
	schemas := doc.GetComponents().GetSchemas()
	for {
		used := map[string]bool{}
		walkStrings(doc.ProtoReflect(), "_ref", func(ref string) string {
			used[strings.TrimPrefix(ref, prefix)] = true
			return ref
		})
		kept := slices.DeleteFunc(slices.Clone(schemas.AdditionalProperties), func(s *v3.NamedSchemaOrReference) bool {
			return !used[s.Name]
		})
		if len(kept) == len(schemas.AdditionalProperties) {
			return
		}
		schemas.AdditionalProperties = kept // a schema dropped may have been the only user of another
	}
}

// sortDocument orders paths, schemas and tags by name, as the generator
// does, so that what base.yaml added lands in its place.
func sortDocument(doc *v3.Document) {
	slices.SortFunc(doc.Paths.Path, func(a, b *v3.NamedPathItem) int { return strings.Compare(a.Name, b.Name) })
	schemas := doc.Components.Schemas.AdditionalProperties
	slices.SortFunc(schemas, func(a, b *v3.NamedSchemaOrReference) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(doc.Tags, func(a, b *v3.Tag) int { return strings.Compare(a.Name, b.Name) })
}
