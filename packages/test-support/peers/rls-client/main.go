// dds-rls-client: a gRPC client of Envoy's rate-limit service built from the stubs Envoy
// publishes (github.com/envoyproxy/go-control-plane/envoy), for dds's tests and benchmarks.
//
//	stdio  (default) one JSON line per call on stdin: {"id":1,"request":{protojson RateLimitRequest}};
//	       one JSON line per answer on stdout: {"id":1,"response":{protojson},"error":"..."}
//	load   -n N -c C [-rps R] -request '{protojson}': N calls, C at a time (paced to R/s if set);
//	       prints {"calls","ok","over_limit","errors","seconds","rps","p50_ms","p99_ms","descriptor_ok":[...]}
//	health -service NAME: grpc.health.v1 Check, prints the status (exit 1 unless SERVING)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "RLS gRPC address")
	mode := flag.String("mode", "stdio", "stdio, load or health")
	concurrency := flag.Int("c", 1, "calls in flight (stdio: workers; answers may then come out of order)")
	n := flag.Int("n", 1000, "load: number of calls")
	rps := flag.Float64("rps", 0, "load: pace calls to this rate (0: as fast as possible)")
	request := flag.String("request", "", "load: the RateLimitRequest, protojson")
	service := flag.String("service", "", "health: service name")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of one call")
	flag.Parse()

	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	switch *mode {
	case "stdio":
		stdio(pb.NewRateLimitServiceClient(conn), *concurrency, *timeout)
	case "load":
		load(pb.NewRateLimitServiceClient(conn), *request, *n, *concurrency, *rps, *timeout)
	case "health":
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(r.Status.String())
		if r.Status != healthpb.HealthCheckResponse_SERVING {
			os.Exit(1)
		}
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dds-rls-client:", err)
	os.Exit(2)
}

var marshal = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

type line struct {
	ID      json.RawMessage `json:"id"`
	Request json.RawMessage `json:"request"`
}

func stdio(client pb.RateLimitServiceClient, workers int, timeout time.Duration) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	jobs := make(chan line)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range jobs {
				answer := map[string]any{"id": l.ID}
				req := &pb.RateLimitRequest{}
				if err := protojson.Unmarshal(l.Request, req); err != nil {
					answer["error"] = "bad request json: " + err.Error()
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					res, err := client.ShouldRateLimit(ctx, req)
					cancel()
					if err != nil {
						answer["error"] = err.Error()
					} else {
						b, _ := marshal.Marshal(res)
						answer["response"] = json.RawMessage(b)
					}
				}
				b, _ := json.Marshal(answer)
				mu.Lock()
				out.Write(b)
				out.WriteByte('\n')
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	for in.Scan() {
		var l line
		if err := json.Unmarshal(in.Bytes(), &l); err != nil {
			fail(fmt.Errorf("bad input line: %w", err))
		}
		jobs <- l
	}
	close(jobs)
	wg.Wait()
}

func load(client pb.RateLimitServiceClient, request string, n, c int, rps float64, timeout time.Duration) {
	req := &pb.RateLimitRequest{}
	if err := protojson.Unmarshal([]byte(request), req); err != nil {
		fail(fmt.Errorf("-request: %w", err))
	}
	var ok, over, errs, next int64
	descOK := make([]int64, len(req.Descriptors))
	lat := make([]time.Duration, n)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(n) {
					return
				}
				if rps > 0 {
					if d := time.Until(start.Add(time.Duration(float64(i) / rps * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				res, err := client.ShouldRateLimit(ctx, req)
				cancel()
				lat[i] = time.Since(t0)
				if err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				if res.OverallCode == pb.RateLimitResponse_OK {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&over, 1)
				}
				for j, s := range res.Statuses {
					if j < len(descOK) && s.Code == pb.RateLimitResponse_OK {
						atomic.AddInt64(&descOK[j], 1)
					}
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b, _ := json.Marshal(map[string]any{
		"calls": n, "ok": ok, "over_limit": over, "errors": errs, "seconds": secs,
		"rps": float64(n) / secs, "p50_ms": ms(0.5), "p99_ms": ms(0.99), "descriptor_ok": descOK,
	})
	fmt.Println(string(b))
}
