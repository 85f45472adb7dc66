// Temporal's row of the side-by-side scenario (bench/peers/run-peers.ts): an in-process Temporal
// server on a SQLite file and a Go worker in the same process, driven through the same phases as the
// Java peers (bench/peers/java/common/.../Scenario.java). Prints one JSON row on stdout.
//
// Arguments: n warmup concurrency latencySamples. Environment: PEER_DATA_DIR (keep the SQLite file there),
// TEMPORAL_PEER_EAGER=1 (eager workflow start), TEMPORAL_PEER_CPUPROFILE=<file> (pprof of the timed phases).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

const (
	pageSize = 500
	// Open review tasks of the group: running workflows that recorded the group.
	openTasksQuery = reviewGroupAttribute + " = '" + reviewers + "' AND ExecutionStatus = 'Running'"
	completedQuery = "WorkflowType = 'RecordReview' AND ExecutionStatus = 'Completed'"
	closedQuery    = "WorkflowType = 'RecordReview' AND ExecutionStatus != 'Running'"
	// A wait that sees no progress for this long is a broken run, not a slow one.
	stallTimeout = 5 * time.Minute
)

// TEMPORAL_PEER_EAGER=1: eager workflow start (the start call hands the first workflow task straight to this
// process's worker, skipping matching). Off by default: the Go SDK marks it experimental.
var eagerStart = os.Getenv("TEMPORAL_PEER_EAGER") == "1"

type peer struct {
	client client.Client
	// The result each instance was sent, to check its decision after the timed phases.
	sent sync.Map
}

func recordOf(i int) Record {
	return Record{Number: "REC-" + strconv.Itoa(i), Amount: 100 + i%1000, Status: "New", OwnerID: "alice"}
}

// start starts one instance for a created record; the workflow id is the record's id, as a business key.
func (p *peer) start(ctx context.Context, recordID string, record Record) error {
	_, err := p.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: recordID, TaskQueue: taskQueue, EnableEagerStart: eagerStart}, RecordReview, record)
	return err
}

// hasOpenTask reads the instance's own state (mutable state, not the eventually consistent index):
// running, and its workflow code has recorded the review task.
func (p *peer) hasOpenTask(ctx context.Context, workflowID string) (bool, error) {
	described, err := p.client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return false, err
	}
	info := described.GetWorkflowExecutionInfo()
	_, recorded := info.GetSearchAttributes().GetIndexedFields()[reviewGroupAttribute]
	return recorded && info.GetStatus().String() == "Running", nil
}

func (p *peer) count(ctx context.Context, query string) (int64, error) {
	counted, err := p.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return 0, err
	}
	return counted.GetCount(), nil
}

// waitForCount polls the visibility store until a count reaches atLeast. Each count is a query over the
// visibility table that Temporal's process pays for (polling every 5 ms took a fifth of its CPU at N=3000),
// so it polls seldom while much is left and often near the end: the pause is a tenth of the time the rest
// would take at the rate seen so far, between 10 ms and 1 s. The end is seen late by about that pause.
func (p *peer) waitForCount(ctx context.Context, query string, atLeast int64) error {
	first, firstAt := int64(-1), time.Now()
	last, since := int64(-1), time.Now()
	for {
		count, err := p.count(ctx, query)
		if err != nil {
			return err
		}
		if count >= atLeast {
			return nil
		}
		now := time.Now()
		if first < 0 {
			first, firstAt = count, now
		}
		if count != last {
			last, since = count, now
		} else if now.Sub(since) > stallTimeout {
			return fmt.Errorf("%q stays at %d of %d", query, count, atLeast)
		}
		pause := 10 * time.Millisecond
		if done := count - first; done > 0 {
			perRow := now.Sub(firstAt) / time.Duration(done)
			pause = min(time.Second, max(pause, perRow*time.Duration(atLeast-count)/10))
		}
		time.Sleep(pause)
	}
}

func parallel(workers int, work func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() { errs[w] = work() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startAll starts n instances with `concurrency` in flight, then waits until the group sees every task.
func (p *peer) startAll(ctx context.Context, run string, n, concurrency int) error {
	var next atomic.Int64
	err := parallel(concurrency, func() error {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			if err := p.start(ctx, run+"-"+strconv.Itoa(i), recordOf(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.waitForCount(ctx, openTasksQuery, int64(n))
}

// completeAll lists the group's open tasks a page of 500 at a time and completes each with a signal
// (Approve and Reject alternating), then waits until every instance is completed and visible as such.
// Pages follow the list's cursor: a signalled instance may still show as open until its close is indexed.
func (p *peer) completeAll(ctx context.Context, n, concurrency int, completedBefore int64) error {
	var token []byte
	for done := 0; done < n; {
		page, err := p.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: pageSize, NextPageToken: token, Query: openTasksQuery,
		})
		if err != nil {
			return err
		}
		executions := page.GetExecutions()
		if len(executions) == 0 {
			return fmt.Errorf("no open task left after %d of %d", done, n)
		}
		var next atomic.Int64
		err = parallel(concurrency, func() error {
			for i := int(next.Add(1) - 1); i < len(executions); i = int(next.Add(1) - 1) {
				result := "Reject"
				if i%2 == 0 {
					result = "Approve"
				}
				id := executions[i].GetExecution().GetWorkflowId()
				if err := p.client.SignalWorkflow(ctx, id, "", completeSignal, result); err != nil {
					return err
				}
				p.sent.Store(id, result)
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += len(executions)
		token = page.GetNextPageToken()
	}
	return p.waitForCount(ctx, completedQuery, completedBefore+int64(n))
}

// checkDecisions reads the end of up to 25 instances of each result in a run: Approve must have
// ended `approved`, Reject `rejected`.
func (p *peer) checkDecisions(ctx context.Context, run string, n int) error {
	want := map[string]string{"Approve": "approved", "Reject": "rejected"}
	checked := map[string]int{}
	var err error
	p.sent.Range(func(key, value any) bool {
		id, result := key.(string), value.(string)
		if !strings.HasPrefix(id, run+"-") || checked[result] >= 25 {
			return true
		}
		var end string
		if err = p.client.GetWorkflow(ctx, id, "").Get(ctx, &end); err != nil {
			return false
		}
		if end != want[result] {
			err = fmt.Errorf("%s completed with %s ended %q, not %q", id, result, end, want[result])
			return false
		}
		checked[result]++
		return true
	})
	if err == nil && n > 1 && (checked["Approve"] == 0 || checked["Reject"] == 0) {
		err = fmt.Errorf("one branch of the decision never ran: %v", checked)
	}
	return err
}

// latencies: one at a time, start then look until the instance shows its task.
func (p *peer) latencies(ctx context.Context, samples int) ([]float64, error) {
	out := make([]float64, 0, samples)
	for i := range samples {
		id := "l-" + strconv.Itoa(i)
		at := time.Now()
		if err := p.start(ctx, id, recordOf(i)); err != nil {
			return nil, err
		}
		for {
			open, err := p.hasOpenTask(ctx, id)
			if err != nil {
				return nil, err
			}
			if open {
				break
			}
			runtime.Gosched()
		}
		out = append(out, float64(time.Since(at).Nanoseconds())/1e6)
	}
	return out, nil
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return math.NaN()
	}
	seconds := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return seconds(usage.Utime) + seconds(usage.Stime)
}

func peakRssMiB() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib / 1024
		}
	}
	return -1
}

func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	return sorted[min(len(sorted)-1, int(math.Floor(p/100*float64(len(sorted)))))]
}

// moduleVersion is the version of a module linked into this binary, e.g. v1.32.1.
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return "unknown"
}

// finite keeps NaN out of the JSON (encoding/json refuses it); the table shows null as empty.
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func run(args []string) error {
	if len(args) < 4 {
		return errors.New("arguments: n warmup concurrency latencySamples")
	}
	var numbers [4]int
	for i := range numbers {
		v, err := strconv.Atoi(args[i])
		if err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
		numbers[i] = v
	}
	n, warmup, concurrency, latencySamples := numbers[0], numbers[1], numbers[2], numbers[3]

	dir := os.Getenv("PEER_DATA_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "temporal-bench-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		dir = tmp
	}
	file := filepath.Join(dir, "temporal.db")
	// The counts the phases wait for assume no workflows from an earlier run.
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s already exists: give PEER_DATA_DIR an empty directory", file)
	}
	server, err := startServer(file)
	if err != nil {
		return err
	}
	defer server.stop()

	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := client.Dial(client.Options{HostPort: server.hostPort(), Namespace: namespace, Logger: sdklog.NewStructuredLogger(quiet)})
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(RecordReview)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	ctx := context.Background()
	p := &peer{client: c}
	// Everything runs once untimed first, on the same path.
	if warmup > 0 {
		if err := p.startAll(ctx, "w", warmup, concurrency); err != nil {
			return fmt.Errorf("warm-up start: %w", err)
		}
		if err := p.completeAll(ctx, warmup, concurrency, 0); err != nil {
			return fmt.Errorf("warm-up completion: %w", err)
		}
	}
	// TEMPORAL_PEER_CPUPROFILE=<file>: a pprof CPU profile of the timed phases, to see where Temporal spends them.
	if file := os.Getenv("TEMPORAL_PEER_CPUPROFILE"); file != "" {
		out, err := os.Create(file)
		if err != nil {
			return err
		}
		defer func() { _ = out.Close() }()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
	}
	cpu0, t0 := cpuSeconds(), time.Now()
	if err := p.startAll(ctx, "r", n, concurrency); err != nil {
		return fmt.Errorf("start phase: %w", err)
	}
	t1, cpu1 := time.Now(), cpuSeconds()
	if err := p.completeAll(ctx, n, concurrency, int64(warmup)); err != nil {
		return fmt.Errorf("completion phase: %w", err)
	}
	t2, cpu2 := time.Now(), cpuSeconds()
	pprof.StopCPUProfile()
	completed, err := p.count(ctx, completedQuery)
	if err != nil {
		return err
	}
	closed, err := p.count(ctx, closedQuery)
	if err != nil {
		return err
	}
	if completed < int64(n+warmup) || closed != completed {
		return fmt.Errorf("%d of %d instances completed, %d closed", completed, n+warmup, closed)
	}
	if err := p.checkDecisions(ctx, "r", n); err != nil {
		return err
	}
	latencies, err := p.latencies(ctx, latencySamples)
	if err != nil {
		return fmt.Errorf("latency samples: %w", err)
	}

	startSeconds, completeSeconds := t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds()
	serverVersion, sdkVersion := moduleVersion("go.temporal.io/server"), moduleVersion("go.temporal.io/sdk")
	row := map[string]any{
		"engine":               "Temporal",
		"version":              serverVersion + " (Go SDK " + sdkVersion + ")",
		"persistence":          "SQLite file (WAL): history, mutable state, task queues, visibility",
		"n":                    n,
		"concurrency":          concurrency,
		"startSeconds":         startSeconds,
		"startsPerSecond":      float64(n) / startSeconds,
		"completeSeconds":      completeSeconds,
		"completionsPerSecond": float64(n) / completeSeconds,
		"startCpuSeconds":      cpu1 - cpu0,
		"completeCpuSeconds":   cpu2 - cpu1,
		"cpuSeconds":           cpu2 - cpu0,
		"latencySamples":       len(latencies),
		"p50ms":                finite(percentile(latencies, 50)),
		"p99ms":                finite(percentile(latencies, 99)),
		"peakRssMiB":           peakRssMiB(),
		"note": "Temporal server " + serverVersion + " and a Go SDK " + sdkVersion + " worker in one process " +
			"(frontend, history, matching and worker services, client over loopback gRPC), 1 history shard, " +
			"SQLite file (WAL, synchronous=NORMAL); the task is the workflow waiting for signal `complete` after " +
			"upserting search attribute ReviewGroup=reviewers: the group's tasks are listed from visibility, " +
			"one instance's from DescribeWorkflowExecution",
	}
	if eagerStart {
		row["note"] = row["note"].(string) + "; eager workflow start"
	}
	line, err := json.Marshal(row)
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
