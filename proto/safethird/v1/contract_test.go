package safethirdv1_test

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

type assessmentServer struct {
	safethirdv1.UnimplementedAssessmentServiceServer
}

type catalogServer struct {
	safethirdv1.UnimplementedCatalogServiceServer
}

// TestServicesRegister proves the generated code builds and both services
// register with a gRPC server under the names the contract fixes.
func TestServicesRegister(t *testing.T) {
	s := grpc.NewServer()
	safethirdv1.RegisterAssessmentServiceServer(s, assessmentServer{})
	safethirdv1.RegisterCatalogServiceServer(s, catalogServer{})

	want := map[string][]string{
		"safethird.v1.AssessmentService": {"AssessCountry", "BatchAssessCountries", "AssessRoute", "AssessTimeline"},
		"safethird.v1.CatalogService":    {"GetCountry", "ListCountries", "GetAgreement", "ListAgreements", "GetFramework", "ListFrameworks", "ListRevisions"},
	}
	info := s.GetServiceInfo()
	for name, methods := range want {
		got, ok := info[name]
		if !ok {
			t.Fatalf("service %s not registered; have %v", name, info)
		}
		if len(got.Methods) != len(methods) {
			t.Errorf("%s has %d methods, want %d", name, len(got.Methods), len(methods))
		}
		have := map[string]bool{}
		for _, m := range got.Methods {
			have[m.Name] = true
		}
		for _, m := range methods {
			if !have[m] {
				t.Errorf("%s lacks method %s", name, m)
			}
		}
	}
}

// TestEnumNamesFixed pins the enum value names clients are written against.
func TestEnumNamesFixed(t *testing.T) {
	tests := []struct {
		give protoreflect.EnumDescriptor
		want []string
	}{
		{safethirdv1.Determination(0).Descriptor(), []string{"DETERMINATION_QUALIFIES", "DETERMINATION_DOES_NOT_QUALIFY", "DETERMINATION_INDETERMINATE", "DETERMINATION_NOT_APPLICABLE"}},
		{safethirdv1.CriterionStatus(0).Descriptor(), []string{"CRITERION_STATUS_MET", "CRITERION_STATUS_NOT_MET", "CRITERION_STATUS_INDETERMINATE"}},
		{safethirdv1.ExceptionStatus(0).Descriptor(), []string{"EXCEPTION_STATUS_APPLIES", "EXCEPTION_STATUS_DOES_NOT_APPLY", "EXCEPTION_STATUS_NEEDS_FACTS"}},
		{safethirdv1.ApplicantOutcome(0).Descriptor(), []string{"APPLICANT_OUTCOME_BAR_MAY_APPLY", "APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY", "APPLICANT_OUTCOME_NEEDS_FACTS", "APPLICANT_OUTCOME_INDETERMINATE"}},
		{safethirdv1.AssessmentView(0).Descriptor(), []string{"ASSESSMENT_VIEW_BASIC", "ASSESSMENT_VIEW_FULL"}},
		{safethirdv1.PracticeStatus(0).Descriptor(), []string{"PRACTICE_STATUS_APPLIED", "PRACTICE_STATUS_NOT_APPLIED", "PRACTICE_STATUS_PAUSED", "PRACTICE_STATUS_INDETERMINATE", "PRACTICE_STATUS_NOT_APPLICABLE"}},
		{safethirdv1.RecordKind(0).Descriptor(), []string{"RECORD_KIND_AGREEMENT", "RECORD_KIND_DESIGNATION", "RECORD_KIND_FINDING", "RECORD_KIND_FRAMEWORK"}},
	}
	for _, tt := range tests {
		for _, name := range tt.want {
			if tt.give.Values().ByName(protoreflect.Name(name)) == nil {
				t.Errorf("%s lacks value %s", tt.give.FullName(), name)
			}
		}
	}
}
