package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/safethird/safethird/client"
)

// pki is a throwaway CA with a server and a client certificate, as PEM files.
type pki struct {
	dir                           string
	caFile, clientCert, clientKey string
	serverCert                    tls.Certificate
	pool                          *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	p := pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "safethird test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(ca)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)

	leaf := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "safethird test"},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := leaf(2, x509.ExtKeyUsageServerAuth)
	p.serverCert = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := leaf(3, x509.ExtKeyUsageClientAuth)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", clientDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = p.write(t, "client-key.pem", "PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p pki) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMutualTLSWithToken(t *testing.T) {
	p := newPKI(t)
	f := &fake{}
	addr := serve(t, f, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
		MinVersion:   tls.VersionTLS12,
	})))
	_, port, _ := net.SplitHostPort(addr)

	c := dial(t, "localhost:"+port,
		client.WithTLS(p.caFile),
		client.WithClientCertificate(p.clientCert, p.clientKey),
		client.WithToken("s3cret"),
	)
	if _, err := c.AssessCountry(t.Context(), mexico()); err != nil {
		t.Fatalf("AssessCountry over mTLS: %v", err)
	}
	if _, auth, _ := f.stats(); !cmp.Equal(auth, []string{"Bearer s3cret"}) {
		t.Errorf("authorization metadata = %q, want [Bearer s3cret]", auth)
	}

	// Without the client certificate the server refuses the handshake.
	noCert := dial(t, "localhost:"+port, client.WithTLS(p.caFile), client.WithMaxAttempts(1))
	if _, err := noCert.AssessCountry(t.Context(), mexico()); err == nil {
		t.Error("AssessCountry without a client certificate: want an error, got none")
	}
}

func TestTLSOptionErrors(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name string
		give []client.Option
	}{
		{name: "missing CA file", give: []client.Option{client.WithTLS(filepath.Join(p.dir, "nope.pem"))}},
		{name: "CA file without certificates", give: []client.Option{client.WithTLS(p.clientKey)}},
		{name: "client key missing", give: []client.Option{client.WithClientCertificate(p.clientCert, filepath.Join(p.dir, "nope.pem"))}},
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
