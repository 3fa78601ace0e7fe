package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// keyFiles are the files keygen writes for a prefix: the private key,
// readable by its owner alone, and the public key a server is given.
func keyFiles(prefix string) (private, public string) {
	return prefix + ".pem", prefix + ".pub.pem"
}

func newKeygenCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Write a new ed25519 key pair to sign dataset releases with",
		Long: `keygen writes a new ed25519 key pair: PREFIX.pem, the private key in PKCS#8
PEM with mode 0600, which 'safethird dataset seal --key' signs with, and
PREFIX.pub.pem, the public key in PKIX PEM, which 'safethird serve
--dataset-public-key' and 'safethird dataset validate --public-key' verify
with. It refuses to overwrite either file: a key replaced by mistake cannot
sign for the servers that trust it. Keep the private key off the servers.`,
		Example: `  safethird dataset keygen --out ~/keys/dataset-key
  safethird dataset seal --key ~/keys/dataset-key.pem data`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out is required: the prefix of the files to write, e.g. --out dataset-key")
			}
			private, public, err := writeKeyPair(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s (mode 0600; for seal --key)\npublic key:  %s (for serve --dataset-public-key)\n", private, public)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "prefix of the key files: PREFIX.pem and PREFIX.pub.pem")
	return cmd
}

// writeKeyPair generates a key pair and writes it to the files for
// prefix, neither of which may exist.
func writeKeyPair(prefix string) (string, string, error) {
	private, public := keyFiles(prefix)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate a key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encode the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", fmt.Errorf("encode the public key: %w", err)
	}
	for _, f := range []string{private, public} {
		if _, err := os.Lstat(f); err == nil {
			return "", "", existsError(f)
		}
	}
	if err := writeNew(private, 0o600, &pem.Block{Type: "PRIVATE KEY", Bytes: privDER}); err != nil {
		return "", "", err
	}
	if err := writeNew(public, 0o644, &pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}); err != nil {
		_ = os.Remove(private) // half a pair is no use, and a private key left behind is a risk
		return "", "", err
	}
	return private, public, nil
}

// writeNew writes a PEM block to a file that must not exist (O_EXCL: no
// race with another writer, no following a symlink planted there).
func writeNew(path string, mode os.FileMode, block *pem.Block) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The umask may have cleared bits of mode, never added any; Chmod makes
	// the private key's 0600 exact whatever the umask.
	err = f.Chmod(mode)
	if err == nil {
		err = pem.Encode(f, block)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // created here, and not whole
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func existsError(path string) error {
	return &exitError{code: 1, msg: fmt.Sprintf("safethird: %s exists: keygen never overwrites a key; choose another --out", path)}
}
