package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// target is the server one scenario drives: one process, or with
// Config.Nodes several on one PostgreSQL database.
type target struct {
	key   string
	nodes []*node
	// peakRSS is the highest VmHWM of the processes stopped so far.
	peakRSS int64
	// schema is the PostgreSQL schema of the server's data, if any.
	schema *pgSchema
}

// node is one server process of a target.
type node struct {
	url string
	// pid is the process id when known (see Config.ServerPID).
	pid int
	// child is the process; nil for a --server run.
	child *child
	cfg   childConfig
	// cpu, once measuring, follows the node across S5's restart.
	cpu *cpuMeter
}

// url returns the URL of the first node, which the run's API calls use.
func (t *target) url() string { return t.nodes[0].url }

// urls returns every node's URL.
func (t *target) urls() []string {
	out := make([]string, len(t.nodes))
	for i, n := range t.nodes {
		out[i] = n.url
	}
	return out
}

// openTarget starts fresh servers for scenario name in dir, or returns
// the configured one.
func (r *runner) openTarget(ctx context.Context, name, dir string) (t *target, err error) {
	if r.cfg.Server != "" {
		return &target{key: r.cfg.APIKey, nodes: []*node{{url: r.cfg.Server, pid: r.cfg.ServerPID}}}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	t = &target{key: "hk_bench_" + randomHex(16)}
	defer func() {
		if err != nil {
			t.close(ctx, r)
		}
	}()
	env := childEnv(r.cfg.Env, t.key)
	if r.cfg.Postgres != "" {
		if t.schema, err = createSchema(ctx, r.cfg.Postgres, schemaFor(r.runID, name)); err != nil {
			return t, err
		}
		dsn := t.schema.dsn
		if r.pgProxy != nil {
			if dsn, err = throughProxy(dsn, r.pgProxy.addr()); err != nil {
				return t, err
			}
		}
		// Secrets at rest in PostgreSQL need a key, the same on every node.
		env = append(env, "HOOKLINE_DATABASE="+dsn, "HOOKLINE_ENCRYPTION_KEY="+randomHex(32))
	}
	nodes := max(r.cfg.Nodes, 1)
	for i := range nodes {
		addr, err := freeAddr()
		if err != nil {
			return t, err
		}
		cc := childConfig{
			binary: r.cfg.Binary, env: env, addr: addr, key: t.key,
			dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "server.log"),
		}
		if nodes > 1 {
			id := "n" + strconv.Itoa(i+1)
			cc.env = append(env[:len(env):len(env)], "HOOKLINE_NODE_ID="+id)
			cc.dataDir, cc.logPath = filepath.Join(dir, "data-"+id), filepath.Join(dir, "server-"+id+".log")
		}
		c, err := startChild(ctx, cc)
		if err != nil {
			return t, err
		}
		t.nodes = append(t.nodes, &node{url: "http://" + addr, pid: c.pid(), child: c, cfg: cc})
	}
	return t, nil
}

// startCPU starts measuring the CPU use of every node.
func (t *target) startCPU() {
	for _, n := range t.nodes {
		n.cpu = startCPU(n.pid)
	}
}

// stopCPU returns the CPU the nodes used together since startCPU, or nil
// when that of one is unknown.
func (t *target) stopCPU() *CPUUse {
	var sum, wall time.Duration
	for _, n := range t.nodes {
		u := n.cpu.stop()
		if u == nil {
			return nil
		}
		sum += time.Duration(u.Seconds * float64(time.Second))
		wall = max(wall, time.Duration(u.WallSeconds*float64(time.Second)))
	}
	return cpuUse(sum, wall)
}

// crash kills the first node with SIGKILL and starts it again on the
// same data dir, address and key.
func (t *target) crash(ctx context.Context) error {
	n := t.nodes[0]
	if n.child == nil {
		return errors.New("no server process to kill")
	}
	t.peakRSS = max(t.peakRSS, n.child.peakRSS())
	if n.cpu != nil {
		n.cpu.retire()
	}
	n.child.kill()
	c, err := startChild(ctx, n.cfg)
	if err != nil {
		n.child = nil
		return fmt.Errorf("restart after kill: %w", err)
	}
	n.child, n.pid = c, c.pid()
	if n.cpu != nil {
		n.cpu.follow(n.pid)
	}
	return nil
}

// close records the nodes' peak RSS, stops them and drops their schema.
func (t *target) close(ctx context.Context, r *runner) {
	for _, n := range t.nodes {
		if n.child != nil {
			t.peakRSS = max(t.peakRSS, n.child.peakRSS())
			n.child.stop()
			n.child = nil
		}
	}
	t.dropSchema(ctx, r)
}

// dropSchema drops the server's PostgreSQL schema, if any, unless the
// run keeps its data.
func (t *target) dropSchema(ctx context.Context, r *runner) {
	if t.schema == nil {
		return
	}
	if r.cfg.KeepData {
		r.logf("kept PostgreSQL schema %s", t.schema.name)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := t.schema.drop(ctx); err != nil {
		r.logf("%v", err)
	}
	t.schema = nil
}
