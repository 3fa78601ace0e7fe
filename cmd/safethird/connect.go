package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/safethird/safethird/client"
)

// Environment variables the connection flags fall back to.
const (
	envAddr  = "SAFETHIRD_ADDR"
	envToken = "SAFETHIRD_TOKEN"
)

const defaultAddr = "127.0.0.1:50051"

// startupWait is how long a command waits for a server to accept its
// connection: long enough for `safethird serve &` just before it to start
// listening, short enough that a command with no server says so at once
// rather than after its --timeout.
const startupWait = time.Second

// connFlags are the flags every command that talks to a server takes.
type connFlags struct {
	fs       *pflag.FlagSet
	addr     string
	token    string
	caFile   string
	certFile string
	keyFile  string
	tls      bool
	timeout  time.Duration
	// dialed is the address dial connected to, flag or environment.
	dialed string
}

func addConnFlags(fs *pflag.FlagSet) *connFlags {
	f := &connFlags{fs: fs}
	grouped(fs, "Connection flags", func(own *pflag.FlagSet) {
		own.StringVar(&f.addr, "addr", defaultAddr, "server address: host:port, dns:///host:port, or a comma-separated list (env "+envAddr+")")
		// The token's default stays empty so help never prints a secret.
		own.StringVar(&f.token, "token", "", "bearer token (env "+envToken+"); sent only over TLS or to a loopback address")
		own.StringVar(&f.caFile, "ca-file", "", "PEM file of the CA that signed the server's certificate (turns on TLS)")
		own.StringVar(&f.certFile, "cert-file", "", "PEM client certificate for mutual TLS (with --key-file)")
		own.StringVar(&f.keyFile, "key-file", "", "PEM client key for mutual TLS")
		own.BoolVar(&f.tls, "tls", false, "use TLS, verifying the server against the system's roots")
		own.DurationVar(&f.timeout, "timeout", 10*time.Second, "deadline for each call")
	})
	return f
}

// dial connects as the flags (or the environment) say. A configuration the
// client refuses, such as a token over plaintext to another machine, is a
// usage error: nothing was sent.
func (f *connFlags) dial(ctx context.Context) (*client.Client, error) {
	addr, token := f.addr, f.token
	if v := os.Getenv(envAddr); v != "" && !f.fs.Changed("addr") {
		addr = v
	}
	if v := os.Getenv(envToken); v != "" && !f.fs.Changed("token") {
		token = v
	}
	if f.timeout <= 0 {
		return nil, usageError("--timeout must be above 0, got %s", f.timeout)
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, usageError("--cert-file and --key-file go together")
	}
	f.dialed = addr
	opts := []client.Option{client.WithTimeout(f.timeout), client.WithStartupWait(startupWait)}
	if f.tls || f.caFile != "" {
		opts = append(opts, client.WithTLS(f.caFile))
	}
	if f.certFile != "" {
		opts = append(opts, client.WithClientCertificate(f.certFile, f.keyFile))
	}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	c, err := client.New(ctx, addr, opts...)
	if errors.Is(err, client.ErrTokenOverPlaintext) {
		return nil, usageError("%s is not a loopback address: refusing to send the token without TLS; add --tls or --ca-file", addr)
	}
	if err != nil {
		return nil, usageError("%v", err)
	}
	return c, nil
}

// callError is callError for a call made through these flags' connection:
// a refused connection says that no server is there, and where.
func (f *connFlags) callError(what string, err error) error {
	if client.NoServer(err) {
		return &exitError{code: 1, msg: fmt.Sprintf("safethird: %s: no server at %s: is `safethird serve` running?", what, f.dialed)}
	}
	return callError(what, err)
}
