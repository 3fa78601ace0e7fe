package client_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// localServer starts a safethird server in this process, on the dataset
// embedded in the binary, so the examples run against the real service.
// It returns the address and a function that stops the server.
func localServer() (addr string, stop func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, lis); err != nil {
			log.Print(err)
		}
	}()
	stop = func() {
		cancel()
		<-done
	}
	// Serve loads the dataset after it starts listening; health says when.
	c, err := client.New(ctx, lis.Addr().String(), client.WithWaitForReady())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for {
		resp, err := grpc_health_v1.NewHealthClient(c.Conn()).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == grpc_health_v1.HealthCheckResponse_SERVING {
			return lis.Addr().String(), stop
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Assess Mexico as of a date.
func Example() {
	addr, stop := localServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	a, err := c.AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.GetDetermination())
	for _, cr := range a.GetCriteria() {
		fmt.Println(cr.GetCriterionId(), cr.GetStatus())
	}
	// Output:
	// DETERMINATION_DOES_NOT_QUALIFY
	// agreement CRITERION_STATUS_NOT_MET
	// no-persecution CRITERION_STATUS_NOT_MET
	// fair-procedure CRITERION_STATUS_NOT_MET
}

// Connect to replicas behind a DNS name over TLS with a bearer token: calls
// are balanced round-robin over every address the name resolves to,
// retried while a replica is UNAVAILABLE, and given a 5s deadline unless
// their context has one.
func ExampleNew() {
	ctx := context.Background()
	c, err := client.New(ctx, "dns:///safethird.internal.example:443",
		client.WithTLS("/etc/safethird/ca.pem"),
		client.WithToken("token-from-your-secret-store"),
		client.WithTimeout(5*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// Balance over a fixed list of addresses, and present a client
// certificate (mutual TLS).
func ExampleNew_list() {
	ctx := context.Background()
	c, err := client.New(ctx, "10.0.0.7:50051,10.0.0.8:50051",
		client.WithTLS("ca.pem"),
		client.WithClientCertificate("client.pem", "client-key.pem"),
		client.WithServerName("safethird.internal.example"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// A token is never sent over plaintext to another machine.
func ExampleNew_tokenOverPlaintext() {
	_, err := client.New(context.Background(), "safethird.example:50051", client.WithToken("t"))
	fmt.Println(err)
	// Output:
	// refusing to send a bearer token over plaintext to a non-loopback address: use TLS
}

// Assess Canada for an unaccompanied minor. The bar is applied in practice
// and Canada qualifies on the evidence. Every fact is optional, and an
// unset fact is unknown, not false: the family and document exceptions
// name the facts that would decide them, and the US test for minors is not
// in the sources, so the answer never says it applies.
func ExampleClient_AssessCountry() {
	addr, stop := localServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	a, err := c.AssessCountry(ctx, &pb.AssessCountryRequest{
		CountryCode: "CA",
		AsOf:        "2024-06-01",
		Applicant: &pb.Applicant{
			NationalityCode:           proto.String("HT"),
			Age:                       proto.Int32(16),
			Married:                   proto.Bool(false),
			ParentOrGuardianCountries: &pb.CountryList{},
			EntryType:                 pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.GetPractice().GetStatus(), a.GetDetermination(), a.GetApplicantOutcome())
	for _, x := range a.GetExceptions() {
		fmt.Println(x.GetExceptionId(), x.GetStatus(), x.GetMissingFacts())
	}
	// Output:
	// PRACTICE_STATUS_APPLIED DETERMINATION_QUALIFIES APPLICANT_OUTCOME_NEEDS_FACTS
	// us-family-member EXCEPTION_STATUS_NEEDS_FACTS [family]
	// us-unaccompanied-minor EXCEPTION_STATUS_TEST_NOT_IN_DATA []
	// us-document-holder EXCEPTION_STATUS_NEEDS_FACTS [documents]
	// us-public-interest EXCEPTION_STATUS_DISCRETIONARY []
}

// Assess a route: every country the person could be sent to, with the
// overall outcome. The basic view leaves out evidence and sources.
func ExampleClient_AssessRoute() {
	addr, stop := localServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	resp, err := c.AssessRoute(ctx, &pb.AssessRouteRequest{
		Legs:      []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}},
		AsOf:      "2020-01-15",
		View:      pb.AssessmentView_ASSESSMENT_VIEW_BASIC,
		Applicant: &pb.Applicant{NationalityCode: proto.String("HN")},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetOutcome())
	for _, a := range resp.GetAssessments()[:2] {
		fmt.Println(a.GetCountryCode(), a.GetPractice().GetStatus(), a.GetDetermination())
	}
	// Output:
	// APPLICANT_OUTCOME_NEEDS_FACTS
	// GT PRACTICE_STATUS_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// MX PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
}

// List the frameworks; the List helpers page through every page.
func ExampleClient_ListFrameworks() {
	addr, stop := localServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	frameworks, err := c.ListFrameworks(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range frameworks {
		fmt.Printf("%s: %s\n", f.GetId(), f.GetCitation())
	}
	// Output:
	// ca-irpa-102: Immigration and Refugee Protection Act, s.101(1)(e) and s.102; IRPR ss.159.1–159.6
	// eu-apd-38: Directive 2013/32/EU, Art. 33(2)(c) and Art. 38
	// eu-apr-59: Regulation (EU) 2024/1348, Art. 59, as amended by Regulation (EU) 2026/463
	// uk-niaa-80b: Nationality, Immigration and Asylum Act 2002, ss.80B and 80C
	// us-ina-208a2a: INA §208(a)(2)(A), 8 U.S.C. §1158(a)(2)(A)
}

// Read the status code, the ErrorInfo reason and the field violations of
// a refused call.
func ExampleDetails() {
	addr, stop := localServer()
	defer stop()

	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	_, err = c.AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "ZZ"})
	d := client.Details(err)
	fmt.Println(d.Code, d.ErrorReason())
	for _, v := range d.FieldViolations {
		fmt.Println(v.Field)
	}
	// Output:
	// InvalidArgument ERROR_REASON_INVALID_ARGUMENT
	// country_code
}
