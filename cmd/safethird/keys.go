package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/safethird/safethird/internal/safefile"
)

// maxKeyFileSize bounds a key file: a PEM ed25519 key is about 120 bytes.
const maxKeyFileSize = 16 << 10

// readPEM reads the one PEM block of type want from a key file.
func readPEM(path, want string) ([]byte, error) {
	data, err := safefile.ReadFile(path, maxKeyFileSize)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block in it", path)
	}
	if block.Type != want {
		return nil, fmt.Errorf("%s: a PEM %q block, want %q", path, block.Type, want)
	}
	return block.Bytes, nil
}

// readPrivateKey reads an ed25519 private key in PKCS#8 PEM, as
// `openssl genpkey -algorithm ed25519` writes it.
func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, want an ed25519 key", path, key)
	}
	return priv, nil
}

// readPublicKey reads an ed25519 public key in PKIX PEM, as `openssl pkey
// -pubout` writes it.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, want an ed25519 key", path, key)
	}
	return pub, nil
}
