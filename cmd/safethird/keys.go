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
	return readKey[ed25519.PrivateKey](path, "PRIVATE KEY", x509.ParsePKCS8PrivateKey)
}

// readPublicKey reads an ed25519 public key in PKIX PEM, as `openssl pkey
// -pubout` writes it.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	return readKey[ed25519.PublicKey](path, "PUBLIC KEY", x509.ParsePKIXPublicKey)
}

// readKey reads the PEM block of type pemType from path, parses it and
// checks it is a K.
func readKey[K any](path, pemType string, parse func([]byte) (any, error)) (K, error) {
	var zero K
	der, err := readPEM(path, pemType)
	if err != nil {
		return zero, err
	}
	key, err := parse(der)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	k, ok := key.(K)
	if !ok {
		return zero, fmt.Errorf("%s: a %T, want an ed25519 key", path, key)
	}
	return k, nil
}
