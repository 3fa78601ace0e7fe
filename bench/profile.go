package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/safethird/safethird/server"
)

// A profile is taken of the server package run inside this process, the
// only way to profile it without a profiling endpoint in the binary: the
// same server.New and Serve that `safethird serve` runs, on real sockets,
// loaded by the same ghz and vegeta. Its figures are the profile's, beside
// the binary's, not instead of them.

// part is a share of the server's CPU, named by the frames that mark it.
// A sample belongs to the first part any frame of its stack matches, so
// the allocation and the collection assists of a part count in it.
type part struct {
	name   string
	frames []string
}

var parts = []part{
	{"engine (assessment)", []string{"github.com/safethird/safethird/assessment."}},
	{"encode the response (codec)", []string{"google.golang.org/grpc.encode"}},
	{"decode the request", []string{"google.golang.org/grpc.recv"}},
	{"REST door: vanguard transcoding, JSON", []string{"connectrpc.com/vanguard"}},
	{"responses interceptor: proto.Size of the response", []string{"google.golang.org/protobuf/proto.Size"}},
	// Before the server package's part: the loopy writer writes through
	// the server's trackedConn, whose frames would claim its writes.
	{"HTTP/2 writes (loopy writer)", []string{"google.golang.org/grpc/internal/transport.(*loopyWriter)"}},
	{"interceptors and handlers (server package)", []string{"github.com/safethird/safethird/server."}},
	{"HTTP/2 reads, headers, streams", []string{"google.golang.org/grpc/internal/transport.", "golang.org/x/net/http2."}},
	{"net/http (REST door)", []string{"net/http."}},
	{"gRPC server, other", []string{"google.golang.org/grpc."}},
	{"garbage collector (background)", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge"}},
	{"scheduler, system calls, other", nil},
}

// breakdown is a variant's server CPU per call, in µs, by part.
type breakdown map[string]float64

// inProcess is the server run inside this process.
type inProcess struct {
	addr, httpAddr string
	stop           func()
}

func startInProcess(cfg config) (*inProcess, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "safethird-bench-inprocess-*.log")
	if err != nil {
		return nil, err
	}
	var level zapcore.Level
	if err := level.Set(cfg.logLevel); err != nil {
		return nil, err
	}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		&zapcore.BufferedWriteSyncer{WS: logFile}, level))
	srv, err := server.New(server.Config{HTTPAddr: httpAddr, Reflection: true, DatasetDir: cfg.set.dir}, logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	p := &inProcess{addr: lis.Addr().String(), httpAddr: httpAddr, stop: func() {
		cancel()
		<-done
		_ = logger.Sync()
		_ = logFile.Close()
		_ = os.Remove(logFile.Name())
	}}
	if err := waitServing(p.addr, time.Now().Add(startDeadline)); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// profileVariants runs each variant once against the server in this
// process with the CPU profiler on, writes dir/<slug>.pprof, and returns
// each variant's CPU per call by part.
func profileVariants(cfg config, vs []variant, dir string) (map[string]breakdown, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p, err := startInProcess(cfg)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	out := map[string]breakdown{}
	for _, v := range vs {
		file := filepath.Join(dir, slug(v.name)+".pprof")
		r, err := profileOne(cfg, p, v, file)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", v.name, err)
		}
		b, err := breakdownOf(file, r.Count)
		if err != nil {
			return nil, err
		}
		out[v.name] = b
		fmt.Printf("profile  %-44s %s\n", v.name, file)
	}
	return out, nil
}

func profileOne(cfg config, p *inProcess, v variant, file string) (ghzResult, error) {
	f, err := os.Create(file)
	if err != nil {
		return ghzResult{}, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return ghzResult{}, err
	}
	long := cfg
	long.duration = cfg.profileDuration
	r, err := load(long, p.addr, p.httpAddr, v)
	pprof.StopCPUProfile()
	var failed *failedError
	if errors.As(err, &failed) && failed.n*100 < r.Count {
		// A few calls cut short (ghz, starved of CPU, timing out on a
		// busy machine) leave the profile of the rest good.
		fmt.Printf("profile  %s: %v, under 1%%; profile kept\n", v.name, err)
		err = nil
	}
	return r, err
}

// breakdownOf reads a CPU profile and divides its time by calls, by part.
func breakdownOf(file string, calls int) (breakdown, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	prof, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	nanos := len(prof.SampleType) - 1 // cpu/nanoseconds comes after samples/count
	b := breakdown{}
	for _, s := range prof.Sample {
		b[partOf(s)] += float64(s.Value[nanos]) / 1e3 / float64(max(calls, 1))
	}
	return b, nil
}

func partOf(s *profile.Sample) string {
	for _, pt := range parts {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				for _, fr := range pt.frames {
					if strings.HasPrefix(line.Function.Name, fr) {
						return pt.name
					}
				}
			}
		}
	}
	return parts[len(parts)-1].name
}

// slug names a variant's profile file.
func slug(name string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name), "-")
}
