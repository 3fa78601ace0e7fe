package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// BenchmarkRoundTrip measures calls over real loopback TCP through the whole
// interceptor chain, Health/Check first: it is the floor the assessment
// calls are compared with (see make bench for the same with ghz), and the
// FULL answer over the REST/JSON door last.
func BenchmarkRoundTrip(b *testing.B) {
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	httpAddr := httpLis.Addr().String()
	_ = httpLis.Close()
	srv, err := server.New(server.Config{Now: fixedNow, HTTPAddr: httpAddr}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	health := healthpb.NewHealthClient(conn)
	assess := safethirdv1.NewAssessmentServiceClient(conn)
	for {
		if r, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
	}
	applicant := &safethirdv1.Applicant{
		NationalityCode: proto.String("HT"), Age: proto.Int32(30), Married: proto.Bool(false),
		ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"HT"}}, Family: &safethirdv1.FamilyTies{}, Documents: &safethirdv1.DocumentsHeld{},
		CapitalCharge: proto.Bool(false), EntryType: safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
	}
	// The route of make bench's "AssessRoute, 5 legs".
	route := &safethirdv1.AssessRouteRequest{AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{NationalityCode: proto.String("HN"), Age: proto.Int32(30)}}
	for _, c := range []string{"HN", "SV", "GT", "BZ", "MX"} {
		route.Legs = append(route.Legs, &safethirdv1.RouteLeg{CountryCode: c})
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"health", func() error { _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); return err }},
		{"full", func() error {
			_, err := assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"})
			return err
		}},
		{"basic", func() error {
			_, err := assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC})
			return err
		}},
		{"applicant", func() error {
			_, err := assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: applicant})
			return err
		}},
		{"route", func() error {
			_, err := assess.AssessRoute(ctx, route)
			return err
		}},
		{"rest-full", func() error {
			resp, err := http.Post("http://"+httpAddr+"/v1/countries/MX:assess", "application/json", strings.NewReader(`{"as_of":"2024-01-01"}`))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
