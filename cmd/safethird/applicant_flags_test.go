package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// parseApplicant runs args through the applicant flags as the CLI does.
func parseApplicant(args []string) (*pb.Applicant, error) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(&strings.Builder{})
	f := addApplicantFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return f.applicant()
}

func TestApplicantFlags(t *testing.T) {
	tests := []struct {
		name string
		give []string
		want *pb.Applicant
	}{
		{name: "no applicant flag means no applicant", give: nil, want: nil},
		{
			name: "nationality is upper-cased",
			give: []string{"--nationality", "ht"},
			want: &pb.Applicant{NationalityCode: proto.String("HT")},
		},
		{
			name: "stateless with last habitual residence",
			give: []string{"--stateless", "--last-habitual-residence", "SY"},
			want: &pb.Applicant{Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("SY")},
		},
		{
			name: "groups repeat and take lists",
			give: []string{"--group", "lgbtqi", "--group", "women-and-girls,CHILDREN"},
			want: &pb.Applicant{Groups: []pb.ApplicantGroup{
				pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI,
				pb.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS,
				pb.ApplicantGroup_APPLICANT_GROUP_CHILDREN,
			}},
		},
		{
			name: "no groups: the list is known to be empty",
			give: []string{"--no-groups"},
			want: &pb.Applicant{DeclaredGroups: &pb.GroupList{}},
		},
		{
			name: "a group and no other",
			give: []string{"--group", "women-and-girls", "--no-other-groups"},
			want: &pb.Applicant{Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS}, DeclaredGroups: &pb.GroupList{}},
		},
		{
			name: "unaccompanied minor facts",
			give: []string{"--age", "16", "--married=false", "--no-parent-or-guardian-in"},
			want: &pb.Applicant{Age: proto.Int32(16), Married: proto.Bool(false), ParentOrGuardianCountries: &pb.CountryList{}},
		},
		{
			name: "age 0 is a fact, not unset",
			give: []string{"--age", "0"},
			want: &pb.Applicant{Age: proto.Int32(0)},
		},
		{
			name: "married, a parent in Canada and one in Mexico",
			give: []string{"--married", "--parent-or-guardian-in", "ca", "--parent-or-guardian-in", "MX"},
			want: &pb.Applicant{Married: proto.Bool(true), ParentOrGuardianCountries: &pb.CountryList{CountryCodes: []string{"CA", "MX"}}},
		},
		{
			name: "visa-free countries, and none",
			give: []string{"--visa-free", "CA,GB"},
			want: &pb.Applicant{VisaFreeCountries: &pb.CountryList{CountryCodes: []string{"CA", "GB"}}},
		},
		{
			name: "needs a visa everywhere",
			give: []string{"--no-visa-free"},
			want: &pb.Applicant{VisaFreeCountries: &pb.CountryList{}},
		},
		{
			name: "family members with and without age",
			give: []string{"--family", "sibling:citizen", "--family", "child:permanent-resident:12"},
			want: &pb.Applicant{Family: &pb.FamilyTies{Members: []*pb.FamilyMember{
				{Relationship: pb.Relationship_RELATIONSHIP_SIBLING, Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN},
				{Relationship: pb.Relationship_RELATIONSHIP_CHILD, Status: pb.FamilyStatus_FAMILY_STATUS_PERMANENT_RESIDENT, Age: proto.Int32(12)},
			}}},
		},
		{
			name: "no family is known to be empty",
			give: []string{"--no-family"},
			want: &pb.Applicant{Family: &pb.FamilyTies{}},
		},
		{
			name: "documents repeat",
			give: []string{"--document", "work-permit", "--document", "refugee-or-pr-travel-document"},
			want: &pb.Applicant{Documents: &pb.DocumentsHeld{Kinds: []pb.DocumentKind{
				pb.DocumentKind_DOCUMENT_KIND_WORK_PERMIT,
				pb.DocumentKind_DOCUMENT_KIND_REFUGEE_OR_PR_TRAVEL_DOCUMENT,
			}}},
		},
		{
			name: "no documents is known to be empty",
			give: []string{"--no-documents"},
			want: &pb.Applicant{Documents: &pb.DocumentsHeld{}},
		},
		{
			name: "entry by its short name, with days to claim",
			give: []string{"--entry-type", "land-port", "--days-to-claim", "3", "--capital-charge=false"},
			want: &pb.Applicant{
				EntryType:               pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
				DaysFromCrossingToClaim: proto.Int32(3),
				CapitalCharge:           proto.Bool(false),
			},
		},
		{
			name: "entry by its schema name",
			give: []string{"--entry-type", "land-port-of-entry"},
			want: &pb.Applicant{EntryType: pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum()},
		},
		{
			name: "in transit",
			give: []string{"--entry-type", "in-transit"},
			want: &pb.Applicant{EntryType: pb.EntryType_ENTRY_TYPE_IN_TRANSIT.Enum()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseApplicant(tt.give)
			if err != nil {
				t.Fatalf("parse %q: %v", tt.give, err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("applicant for %q (-want +got):\n%s", tt.give, diff)
			}
		})
	}
}

func TestApplicantFlagErrors(t *testing.T) {
	tests := []struct {
		give []string
		// want are substrings of the error: the flag and what it accepts.
		want []string
	}{
		{give: []string{"--group", "veterans"}, want: []string{"--group", "lgbtqi, indigenous, women-and-girls, children"}},
		{give: []string{"--entry-type", "car"}, want: []string{"--entry-type", "land-port, between-ports, airport, marine-port, in-transit"}},
		{give: []string{"--document", "passport"}, want: []string{"--document", "destination-visa", "destination-temporary-permit"}},
		// Deprecated: the engine no longer reads it, so the flag does not offer it.
		{give: []string{"--document", "visa-exempt-destination-only"}, want: []string{"--document", "must be one of"}},
		{give: []string{"--family", "cousin:citizen"}, want: []string{"--family", "relationship", "spouse", "niece-or-nephew"}},
		{give: []string{"--family", "sibling:tourist"}, want: []string{"--family", "status", "citizen", "no-status"}},
		{give: []string{"--family", "sibling"}, want: []string{"--family", "RELATIONSHIP:STATUS"}},
		{give: []string{"--family", "child:citizen:twelve"}, want: []string{"--family", "whole number"}},
		{give: []string{"--nationality", "Haiti"}, want: []string{"--nationality", "ISO 3166-1 alpha-2"}},
		{give: []string{"--age", "sixteen"}, want: []string{"--age"}},
		{give: []string{"--group", "lgbtqi", "--no-groups"}, want: []string{"--group", "--no-groups"}},
		{give: []string{"--family", "sibling:citizen", "--no-family"}, want: []string{"--family", "--no-family"}},
		{give: []string{"--document", "work-permit", "--no-documents"}, want: []string{"--document", "--no-documents"}},
		{give: []string{"--parent-or-guardian-in", "US", "--no-parent-or-guardian-in"}, want: []string{"--parent-or-guardian-in", "--no-parent-or-guardian-in"}},
		{give: []string{"--visa-free", "CA", "--no-visa-free"}, want: []string{"--visa-free", "--no-visa-free"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			_, err := parseApplicant(tt.give)
			if err == nil {
				t.Fatalf("parse %q: want an error, got none", tt.give)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Every value the schema defines and does not deprecate is a flag value
// and reads back as itself, so the flags follow the schema without a table
// to keep in step.
func TestChoicesFollowTheSchema(t *testing.T) {
	for _, c := range []choices{groupChoices(), relationshipChoices(), familyStatusChoices(), documentChoices(), entryTypeChoices()} {
		t.Run(string(c.desc.Name()), func(t *testing.T) {
			vals := c.desc.Values()
			current := 0
			for i := 1; i < vals.Len(); i++ {
				v := vals.Get(i)
				n := v.Number()
				deprecated := v.Options().(*descriptorpb.EnumValueOptions).GetDeprecated()
				if !deprecated {
					current++
				}
				for _, name := range []string{c.name(n), c.long(n)} {
					got, err := c.parse(name)
					switch {
					case deprecated && err == nil:
						t.Errorf("parse(%q) = %v; want an error: the value is deprecated", name, got)
					case !deprecated && (err != nil || got != n):
						t.Errorf("parse(%q) = %v, %v; want %v", name, got, err, v.Name())
					}
				}
			}
			if got := len(c.names()); got != current {
				t.Errorf("%d names for %d values neither UNSPECIFIED nor deprecated", got, current)
			}
			if _, err := c.parse("unspecified"); err == nil {
				t.Error(`parse("unspecified"): want an error, got none`)
			}
		})
	}
}
