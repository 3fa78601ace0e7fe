// Package testpki writes a throwaway certificate authority for tests: a CA,
// a server certificate for localhost and 127.0.0.1, and a client
// certificate, as PEM files, so tests run real TLS and mTLS.
package testpki

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
)

// PKI is a CA and the certificates it signed, valid for a day.
type PKI struct {
	// Dir holds the files.
	Dir string
	// CAFile is the CA certificate; Pool holds it too.
	CAFile string
	Pool   *x509.CertPool
	// ServerCertFile and ServerKeyFile are the server's certificate and
	// key; ServerCert is the same pair, loaded.
	ServerCertFile, ServerKeyFile string
	ServerCert                    tls.Certificate
	// ClientCertFile and ClientKeyFile are a client certificate and key.
	ClientCertFile, ClientKeyFile string
}

// New writes a CA, a server and a client certificate into dir.
func New(t testing.TB, dir string) *PKI {
	t.Helper()
	now := time.Now()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "safethird test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{Dir: dir, Pool: x509.NewCertPool()}
	p.Pool.AddCert(ca)
	p.CAFile = write(t, dir, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (certFile, keyFile string, cert tls.Certificate) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile = write(t, dir, name+".pem", "CERTIFICATE", der)
		keyFile = write(t, dir, name+"-key.pem", "PRIVATE KEY", keyDER)
		return certFile, keyFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p.ServerCertFile, p.ServerKeyFile, p.ServerCert = issue(2, "server", x509.ExtKeyUsageServerAuth)
	p.ClientCertFile, p.ClientKeyFile, _ = issue(3, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func write(t testing.TB, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
