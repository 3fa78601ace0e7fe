package reliability_test

import (
	"context"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// rpcMethod is one method the server lists.
type rpcMethod struct {
	full                         string // /package.Service/Method
	clientStreams, serverStreams bool
}

// listMethods asks the server's reflection service for every method it
// serves.
func listMethods(t *testing.T, conn *grpc.ClientConn) []rpcMethod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatalf("reflection send: %v", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("reflection recv: %v", err)
		}
		return resp
	}
	var methods []rpcMethod
	services := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	for _, svc := range services.GetListServicesResponse().GetService() {
		resp := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc.GetName()}})
		found := false
		for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			var fd descriptorpb.FileDescriptorProto
			if err := proto.Unmarshal(b, &fd); err != nil {
				t.Fatalf("reflection file descriptor: %v", err)
			}
			for _, sd := range fd.GetService() {
				if fd.GetPackage()+"."+sd.GetName() != svc.GetName() {
					continue
				}
				found = true
				for _, m := range sd.GetMethod() {
					methods = append(methods, rpcMethod{"/" + svc.GetName() + "/" + m.GetName(), m.GetClientStreaming(), m.GetServerStreaming()})
				}
			}
		}
		if !found {
			t.Errorf("reflection lists %s but has no descriptor for it", svc.GetName())
		}
	}
	_ = stream.CloseSend()
	return methods
}

// callMethod calls m with an empty request and returns the status of its
// first response.
func callMethod(ctx context.Context, conn *grpc.ClientConn, m rpcMethod) error {
	if !m.clientStreams && !m.serverStreams {
		return invokeRaw(ctx, conn, m.full, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a stream that would stay open, such as Health/Watch
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: m.clientStreams, ServerStreams: m.serverStreams}, m.full, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	empty := []byte{}
	if err := stream.SendMsg(&empty); err != nil && err != io.EOF {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	var resp []byte
	return stream.RecvMsg(&resp)
}

// TestAuth lists every method from the server's reflection and calls each
// without a token and with wrong ones: all but grpc.health.v1 must be
// UNAUTHENTICATED, and each must get past auth with the right token.
// Plaintext to the TLS port is refused.
func TestAuth(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	srv := startServer(t, serverOptions{pki: keys, tokensFile: keys.tokensFile})
	good := newClient(t, srv.addr, keys.clientOptions()...)
	methods := listMethods(t, good.Conn())

	// Every method of the generated service descriptors must be listed.
	listed := map[string]bool{}
	for _, m := range methods {
		listed[m.full] = true
	}
	var generated []string
	for _, sd := range []protoreflect.ServiceDescriptor{
		pb.File_safethird_v1_assessment_service_proto.Services().Get(0),
		pb.File_safethird_v1_catalog_service_proto.Services().Get(0),
		healthpb.File_grpc_health_v1_health_proto.Services().Get(0),
	} {
		for i := range sd.Methods().Len() {
			generated = append(generated, "/"+string(sd.FullName())+"/"+string(sd.Methods().Get(i).Name()))
		}
	}
	for _, g := range generated {
		if !listed[g] {
			t.Errorf("reflection does not list %s", g)
		}
	}

	// A TLS connection without a per-call token; each case sets its own header.
	bare := newClient(t, srv.addr, client.WithTLS(keys.CAFile), client.WithMaxAttempts(1))
	credentials := []struct {
		name   string
		values []string // authorization values sent
	}{
		{"no token", nil},
		{"wrong token", []string{"Bearer wrong-" + keys.token}},
		{"token with a suffix", []string{"Bearer " + keys.token + "x"}},
		{"token prefix", []string{"Bearer " + keys.token[:len(keys.token)-1]}},
		{"wrong scheme", []string{"Basic " + keys.token}},
		{"no scheme", []string{keys.token}},
		{"empty bearer", []string{"Bearer "}},
		{"a good and a wrong token", []string{"Bearer " + keys.token, "Bearer wrong"}},
	}
	covered := 0
	refusals := 0
	for _, m := range methods {
		health := strings.HasPrefix(m.full, "/grpc.health.v1.")
		ok := true
		for _, cred := range credentials {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			for _, v := range cred.values {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
			}
			err := callMethod(ctx, bare.Conn(), m)
			cancel()
			switch code := status.Code(err); {
			case health && code == codes.Unauthenticated:
				t.Errorf("%s with %s: %v; health needs no token", m.full, cred.name, err)
				ok = false
			case !health && code != codes.Unauthenticated:
				t.Errorf("%s with %s: %v; want UNAUTHENTICATED", m.full, cred.name, err)
				ok = false
			case !health:
				refusals++
			}
		}
		// With the right token the call gets past auth (an empty request may
		// still be invalid).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := callMethod(ctx, good.Conn(), m)
		cancel()
		if status.Code(err) == codes.Unauthenticated {
			t.Errorf("%s with the right token: %v", m.full, err)
			ok = false
		}
		if ok {
			covered++
		}
	}

	// Plaintext to the TLS port: a gRPC client, and a raw HTTP/2 preface.
	plain, err := client.New(context.Background(), srv.addr, client.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plainErr := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := healthpb.NewHealthClient(plain.Conn()).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}()
	if status.Code(plainErr) != codes.Unavailable {
		t.Errorf("a plaintext gRPC call to the TLS port: %v, want UNAVAILABLE", plainErr)
	}
	conn, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	closedIn, err := closedAfter(conn, start, 5*time.Second)
	if err != nil {
		t.Errorf("a plaintext HTTP/2 preface on the TLS port: %v", err)
	}

	// The same, as an operator at a shell would see it with grpcurl.
	t.Run("grpcurl", func(t *testing.T) {
		grpcurl, err := exec.LookPath("grpcurl")
		if err != nil {
			t.Skip("grpcurl is not on PATH; `make tools` installs it into ./bin and `make test` puts ./bin on PATH")
		}
		run := func(args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, grpcurl, append([]string{"-connect-timeout", "2"}, args...)...).CombinedOutput()
			return string(out), err
		}
		out, err := run("-cacert", keys.CAFile, "-H", "authorization: Bearer "+keys.token, srv.addr, "list")
		if err != nil {
			t.Fatalf("grpcurl list with the token: %v\n%s", err, out)
		}
		var services []string
		for _, m := range methods {
			svc := strings.Split(m.full, "/")[1]
			if !slices.Contains(services, svc) {
				services = append(services, svc)
			}
		}
		slices.Sort(services)
		if got := strings.Fields(out); !slices.Equal(got, services) {
			t.Errorf("grpcurl list = %v, reflection listed %v", got, services)
		}
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"list without a token", []string{"-cacert", keys.CAFile, srv.addr, "list"}, "Unauthenticated"},
			{"call with a wrong token", []string{"-cacert", keys.CAFile, "-reflect-header", "authorization: Bearer " + keys.token,
				"-rpc-header", "authorization: Bearer wrong", "-d", `{"country_code": "MX"}`, srv.addr, "safethird.v1.AssessmentService/AssessCountry"}, "Unauthenticated"},
			{"plaintext", []string{"-plaintext", srv.addr, "grpc.health.v1.Health/Check"}, ""},
		} {
			out, err := run(tc.args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("grpcurl %s: %v, want a failure with %q:\n%s", tc.name, err, tc.want, out)
			}
		}
	})

	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = m.full
	}
	slices.Sort(names)
	if covered != len(methods) || len(methods) == 0 {
		t.Errorf("%d/%d methods covered", covered, len(methods))
	}
	figure(t, "%d/%d methods covered (every method listed by reflection, %d of them in the generated descriptors): %d calls without a good token refused UNAUTHENTICATED (%d credential variants), grpc.health.v1 open; plaintext gRPC to the TLS port: %v; a plaintext HTTP/2 preface: connection closed after %v",
		covered, len(methods), len(generated), refusals, len(credentials), status.Code(plainErr), closedIn.Round(time.Microsecond))
	t.Logf("methods: %s", strings.Join(names, " "))
}
