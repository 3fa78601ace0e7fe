package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// process is a `safethird serve` process.
type process struct {
	cmd            *exec.Cmd
	addr, httpAddr string
	// log is the file its log goes to, kept until it stops so that a
	// server that died can say why (logTail).
	log string
}

func (s *process) pid() int { return s.cmd.Process.Pid }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startDeadline is how long a server may take to say SERVING: a dataset
// of 20,000 files takes seconds to load on a busy machine.
const startDeadline = 2 * time.Minute

// startServer starts the binary at logLevel and waits until health says
// SERVING.
func startServer(cfg config, logLevel string) (*process, error) {
	s, _, err := startTimed(cfg, logLevel)
	return s, err
}

// startTimed starts the binary and returns how long it took to say SERVING.
func startTimed(cfg config, logLevel string) (*process, time.Duration, error) {
	binary := cfg.binary
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	args := []string{"serve", "--addr", addr, "--log-level", logLevel}
	if cfg.set != nil && cfg.set.dir != "" {
		args = append(args, "--dataset", cfg.set.dir)
	}
	var httpAddr string
	if cfg.rest {
		if httpAddr, err = freeAddr(); err != nil {
			return nil, 0, err
		}
		args = append(args, "--http-addr", httpAddr)
	}
	cmd := exec.Command(binary, args...)
	// The server's log goes where a deployment's would: to a file, not a
	// terminal that would slow it down.
	logFile, err := os.CreateTemp("", "safethird-bench-*.log")
	if err != nil {
		return nil, 0, err
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	s := &process{cmd: cmd, addr: addr, httpAddr: httpAddr, log: logFile.Name()}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", binary, err)
	}
	if err := waitServing(addr, start.Add(startDeadline)); err != nil {
		s.stop()
		return nil, 0, fmt.Errorf("%s: %w", binary, err)
	}
	return s, time.Since(start), nil
}

// waitServing waits until the server at addr says SERVING, or deadline.
func waitServing(addr string, deadline time.Time) error {
	// A short reconnect backoff: the first attempts are refused until the
	// server listens, and the default backoff (1 s) would be measured too.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: time.Millisecond, Multiplier: 1, MaxDelay: time.Millisecond},
			MinConnectTimeout: 100 * time.Millisecond,
		}))
	if err != nil {
		return err
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	for ; time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
	}
	return fmt.Errorf("%s did not report SERVING in time", addr)
}

func (s *process) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	_ = os.Remove(s.log)
}

// logTail is the end of the server's log, for an error that may be its
// death: the last lines, up to 4 KB.
func (s *process) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-4096):])
}

// idleWait is how long a server started is left idle before its
// resident memory is read.
const idleWait = time.Second

// measureStartups starts the server cfg.startups times and returns the
// times to SERVING and the resident memory (KB) idle after each.
func measureStartups(cfg config) ([]time.Duration, []int, error) {
	var out []time.Duration
	var rss []int
	for range cfg.startups {
		s, d, err := startTimed(cfg, cfg.logLevel)
		if err != nil {
			return nil, nil, err
		}
		time.Sleep(idleWait)
		kb, err := residentKB(s.pid())
		s.stop()
		if err != nil {
			return nil, nil, err
		}
		out, rss = append(out, d), append(rss, kb)
	}
	return out, rss, nil
}

// measure runs one load against the server with pid at addr and httpAddr,
// and the server's CPU time over it.
func measure(cfg config, pid int, addr, httpAddr string, v variant) (ghzResult, error) {
	before, err := cpuTime(pid)
	if err != nil {
		return ghzResult{}, err
	}
	r, err := load(cfg, addr, httpAddr, v)
	if err != nil {
		return r, err
	}
	after, err := cpuTime(pid)
	if err != nil {
		return r, err
	}
	if r.Count > 0 {
		r.cpuPerCall = float64((after - before).Microseconds()) / float64(r.Count)
	}
	return r, nil
}

// clockTick is the unit of /proc/PID/stat's CPU times, USER_HZ, which is
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime reads the CPU time a process has used, user and system, from
// /proc/PID/stat (fields 14 and 15, after the parenthesised name).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("read CPU time of %d: unexpected /proc stat %q", pid, b)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: the 14th and 15th fields
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// residentKB reads VmRSS of a process from /proc.
func residentKB(pid int) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
