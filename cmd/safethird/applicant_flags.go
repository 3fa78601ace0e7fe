package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// The enums the applicant flags take, named from the schema.
func groupChoices() choices        { return newChoices(pb.ApplicantGroup(0), "group", nil) }
func relationshipChoices() choices { return newChoices(pb.Relationship(0), "relationship", nil) }
func familyStatusChoices() choices { return newChoices(pb.FamilyStatus(0), "status", nil) }
func documentChoices() choices     { return newChoices(pb.DocumentKind(0), "kind", nil) }

// entryTypeChoices shortens LAND_PORT_OF_ENTRY to land-port, the name
// people use; land-port-of-entry is accepted too.
func entryTypeChoices() choices {
	return newChoices(pb.EntryType(0), "type", map[protoreflect.EnumNumber]string{
		protoreflect.EnumNumber(pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY): "land-port",
	})
}

// applicantFlags are the flags that describe the person. Every fact is
// optional: only the flags given are set on the Applicant, because an
// unset fact means unknown to the engine, never false. The values are
// sensitive: they go into the request and nowhere else.
type applicantFlags struct {
	fs *pflag.FlagSet

	nationality          countryFlag
	lastHabitual         countryFlag
	stateless            bool
	groups               enumListFlag
	noGroups             bool
	noOtherGroups        bool
	age                  int32
	married              bool
	family               familyFlag
	noFamily             bool
	documents            enumListFlag
	noDocuments          bool
	capitalCharge        bool
	entryType            enumFlag
	daysFromCrossToClaim int32
	entryDate            string
	accompanied          bool
	crossed              countryListFlag
	familyIn             countryListFlag
	stayedIn             countryListFlag
	noCrossed            bool
	noFamilyIn           bool
	noStayedIn           bool
	parentIn             countryListFlag
	noParentIn           bool
	visaFree             countryListFlag
	noVisaFree           bool
}

// addApplicantFlags registers the applicant flags on fs.
func addApplicantFlags(fs *pflag.FlagSet) *applicantFlags {
	f := &applicantFlags{
		fs:        fs,
		groups:    enumListFlag{choices: groupChoices()},
		documents: enumListFlag{choices: documentChoices()},
		entryType: enumFlag{choices: entryTypeChoices()},
	}
	grouped(fs, "Applicant flags (each optional: leave out what is unknown)", func(own *pflag.FlagSet) {
		own.Var(&f.nationality, "nationality", "applicant's nationality, ISO 3166-1 alpha-2")
		own.BoolVar(&f.stateless, "stateless", false, "applicant is stateless")
		own.Var(&f.lastHabitual, "last-habitual-residence", "applicant's country of last habitual residence, ISO 3166-1 alpha-2")
		own.Var(&f.groups, "group", "a group the applicant belongs to, repeatable (other groups stay unknown): "+f.groups.list())
		own.BoolVar(&f.noGroups, "no-groups", false, "applicant belongs to none of the groups")
		own.BoolVar(&f.noOtherGroups, "no-other-groups", false, "applicant belongs to no group but those given with --group")
		own.Int32Var(&f.age, "age", 0, "applicant's age in whole years")
		own.BoolVar(&f.married, "married", false, "applicant is married (--married=false: is not; leave out if unknown)")
		own.Var(&f.parentIn, "parent-or-guardian-in", "a country where the applicant's mother, father or legal guardian is, repeatable or comma-separated")
		own.BoolVar(&f.noParentIn, "no-parent-or-guardian-in", false, "applicant has no mother, father or legal guardian in any country")
		own.Var(&f.family, "family", "a family member in the destination, repeatable; relationship: "+
			relationshipChoices().list()+"; status: "+familyStatusChoices().list())
		own.BoolVar(&f.noFamily, "no-family", false, "applicant has no family in the destination")
		own.Var(&f.documents, "document", "a document the applicant holds for the destination, repeatable: "+f.documents.list())
		own.BoolVar(&f.noDocuments, "no-documents", false, "applicant holds no documents for the destination")
		own.BoolVar(&f.capitalCharge, "capital-charge", false, "applicant is charged with or convicted of an offence punishable by death")
		own.Var(&f.entryType, "entry-type", "how the applicant entered the destination: "+f.entryType.list())
		own.Int32Var(&f.daysFromCrossToClaim, "days-to-claim", 0, "days between crossing the border and making the claim")
		own.StringVar(&f.entryDate, "entry-date", "", "day the applicant first entered the destination, YYYY-MM-DD")
		own.BoolVar(&f.accompanied, "accompanied", false, "travels with a parent, legal guardian or other responsible adult (--accompanied=false: does not)")
		own.Var(&f.crossed, "crossed", "a country passed through on the way, repeatable or comma-separated (AssessRoute takes the legs)")
		own.BoolVar(&f.noCrossed, "no-crossed", false, "passed through no country on the way")
		own.Var(&f.familyIn, "family-in", "a country where family members live, repeatable or comma-separated")
		own.BoolVar(&f.noFamilyIn, "no-family-in", false, "has family in no other country")
		own.Var(&f.stayedIn, "stayed-in", "a country where the applicant stayed before (not in transit), repeatable or comma-separated")
		own.BoolVar(&f.noStayedIn, "no-stayed-in", false, "stayed in no other country before")
		own.Var(&f.visaFree, "visa-free", "a country the applicant may enter without a visa, repeatable or comma-separated")
		own.BoolVar(&f.noVisaFree, "no-visa-free", false, "applicant needs a visa for every country")
	})
	return f
}

// applicant builds the Applicant from the flags given; nil when none was.
func (f *applicantFlags) applicant() (*pb.Applicant, error) {
	for _, pair := range [][2]string{
		{"group", "no-groups"},
		{"family", "no-family"},
		{"document", "no-documents"},
		{"crossed", "no-crossed"},
		{"family-in", "no-family-in"},
		{"stayed-in", "no-stayed-in"},
		{"parent-or-guardian-in", "no-parent-or-guardian-in"},
		{"visa-free", "no-visa-free"},
	} {
		if f.fs.Changed(pair[0]) && f.fs.Changed(pair[1]) {
			return nil, usageError("--%s and --%s contradict each other; give one", pair[0], pair[1])
		}
	}
	a := &pb.Applicant{}
	given := false
	changed := func(name string) bool {
		c := f.fs.Changed(name)
		given = given || c
		return c
	}
	if changed("nationality") {
		a.NationalityCode = proto.String(f.nationality.code)
	}
	if changed("stateless") {
		a.Stateless = proto.Bool(f.stateless)
	}
	if changed("last-habitual-residence") {
		a.LastHabitualResidenceCode = proto.String(f.lastHabitual.code)
	}
	if changed("group") {
		a.Groups = enumsOf[pb.ApplicantGroup](f.groups.values)
	}
	// Groups not given are unknown; these declare the list complete.
	if (changed("no-groups") && f.noGroups) || (changed("no-other-groups") && f.noOtherGroups) {
		a.DeclaredGroups = &pb.GroupList{}
	}
	if changed("age") {
		a.Age = proto.Int32(f.age)
	}
	if changed("married") {
		a.Married = proto.Bool(f.married)
	}
	if changed("family") {
		a.Family = &pb.FamilyTies{Members: f.family.members}
	}
	if changed("no-family") && f.noFamily {
		a.Family = &pb.FamilyTies{}
	}
	if changed("document") {
		a.Documents = &pb.DocumentsHeld{Kinds: enumsOf[pb.DocumentKind](f.documents.values)}
	}
	if changed("no-documents") && f.noDocuments {
		a.Documents = &pb.DocumentsHeld{}
	}
	if changed("capital-charge") {
		a.CapitalCharge = proto.Bool(f.capitalCharge)
	}
	if changed("entry-type") {
		a.EntryType = pb.EntryType(f.entryType.value).Enum()
	}
	if changed("days-to-claim") {
		a.DaysFromCrossingToClaim = proto.Int32(f.daysFromCrossToClaim)
	}
	if changed("entry-date") {
		a.EntryDate = proto.String(f.entryDate)
	}
	if changed("accompanied") {
		a.Accompanied = proto.Bool(f.accompanied)
	}
	for _, l := range []struct {
		name, none   string
		value        *countryListFlag
		declaredNone bool
		set          func(*pb.CountryList)
	}{
		{"crossed", "no-crossed", &f.crossed, f.noCrossed, func(c *pb.CountryList) { a.CountriesCrossed = c }},
		{"family-in", "no-family-in", &f.familyIn, f.noFamilyIn, func(c *pb.CountryList) { a.FamilyCountries = c }},
		{"stayed-in", "no-stayed-in", &f.stayedIn, f.noStayedIn, func(c *pb.CountryList) { a.PreviousStayCountries = c }},
		{"parent-or-guardian-in", "no-parent-or-guardian-in", &f.parentIn, f.noParentIn, func(c *pb.CountryList) { a.ParentOrGuardianCountries = c }},
		{"visa-free", "no-visa-free", &f.visaFree, f.noVisaFree, func(c *pb.CountryList) { a.VisaFreeCountries = c }},
	} {
		if changed(l.name) {
			l.set(&pb.CountryList{CountryCodes: l.value.codes})
		}
		if changed(l.none) && l.declaredNone {
			l.set(&pb.CountryList{})
		}
	}
	if !given {
		return nil, nil
	}
	return a, nil
}

// familyFlag is a repeatable RELATIONSHIP:STATUS[:AGE] flag.
type familyFlag struct {
	members []*pb.FamilyMember
}

func (f *familyFlag) String() string {
	rel, st := relationshipChoices(), familyStatusChoices()
	parts := make([]string, len(f.members))
	for i, m := range f.members {
		parts[i] = rel.name(protoreflect.EnumNumber(m.GetRelationship())) + ":" + st.name(protoreflect.EnumNumber(m.GetStatus()))
		if m.Age != nil {
			parts[i] += ":" + strconv.Itoa(int(m.GetAge()))
		}
	}
	return strings.Join(parts, ",")
}

func (f *familyFlag) Set(s string) error {
	fields := strings.Split(s, ":")
	if len(fields) < 2 || len(fields) > 3 {
		return fmt.Errorf("want RELATIONSHIP:STATUS or RELATIONSHIP:STATUS:AGE, such as sibling:citizen or child:permanent-resident:12")
	}
	rel, err := relationshipChoices().parse(fields[0])
	if err != nil {
		return fmt.Errorf("relationship %q %w", fields[0], err)
	}
	st, err := familyStatusChoices().parse(fields[1])
	if err != nil {
		return fmt.Errorf("status %q %w", fields[1], err)
	}
	m := &pb.FamilyMember{Relationship: pb.Relationship(rel), Status: pb.FamilyStatus(st)}
	if len(fields) == 3 {
		age, err := strconv.ParseInt(fields[2], 10, 32)
		if err != nil {
			return fmt.Errorf("age %q must be a whole number of years", fields[2])
		}
		m.Age = proto.Int32(int32(age))
	}
	f.members = append(f.members, m)
	return nil
}

func (f *familyFlag) Type() string { return "RELATIONSHIP:STATUS[:AGE]" }
