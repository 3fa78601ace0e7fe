package client_test

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/internal/testpki"
)

func TestMutualTLSWithToken(t *testing.T) {
	p := testpki.New(t, t.TempDir())
	f := &fake{}
	addr := serve(t, f, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.ServerCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.Pool,
		MinVersion:   tls.VersionTLS12,
	})))
	_, port, _ := net.SplitHostPort(addr)

	c := dial(t, "localhost:"+port,
		client.WithTLS(p.CAFile),
		client.WithClientCertificate(p.ClientCertFile, p.ClientKeyFile),
		client.WithToken("s3cret"),
	)
	if _, err := c.AssessCountry(t.Context(), mexico()); err != nil {
		t.Fatalf("AssessCountry over mTLS: %v", err)
	}
	if _, auth, _ := f.stats(); !cmp.Equal(auth, []string{"Bearer s3cret"}) {
		t.Errorf("authorization metadata = %q, want [Bearer s3cret]", auth)
	}

	// Without the client certificate the server refuses the handshake.
	noCert := dial(t, "localhost:"+port, client.WithTLS(p.CAFile), client.WithMaxAttempts(1))
	if _, err := noCert.AssessCountry(t.Context(), mexico()); err == nil {
		t.Error("AssessCountry without a client certificate: want an error, got none")
	}
}

func TestTLSOptionErrors(t *testing.T) {
	p := testpki.New(t, t.TempDir())
	tests := []struct {
		name string
		give []client.Option
	}{
		{name: "missing CA file", give: []client.Option{client.WithTLS(filepath.Join(p.Dir, "nope.pem"))}},
		{name: "CA file without certificates", give: []client.Option{client.WithTLS(p.ClientKeyFile)}},
		{name: "client key missing", give: []client.Option{client.WithClientCertificate(p.ClientCertFile, filepath.Join(p.Dir, "nope.pem"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(t.Context(), "localhost:1", tt.give...)
			if err == nil {
				c.Close()
				t.Error("New: want an error, got none")
			}
		})
	}
}
