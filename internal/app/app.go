// Package app wires Hookline together: config → store → engine and
// executors → HTTP, with Start and Stop.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookline/hookline/internal/accesslog"
	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/buildinfo"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/content/email"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/feed"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/queue"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/telemetry"
	"github.com/hookline/hookline/internal/web"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// DefaultTenant is the tenant created on first start.
const DefaultTenant = "default"

// Options are what the process gives the app besides its config.
type Options struct {
	Logger *slog.Logger
	// Out receives the one-time admin key notice on first start.
	Out   io.Writer
	Clock clock.Clock
	// Rand, when set, replaces the retry jitter source of deliveries,
	// workflow steps and mirrors (tests).
	Rand func() float64
	// PollInterval, when set, replaces the engine's poll interval (tests).
	PollInterval time.Duration
	// ScheduleInterval, when set, replaces how often the workflow
	// scheduler looks for due schedules (tests).
	ScheduleInterval time.Duration
	// Lease, when set, replaces the engine's lease duration (tests).
	Lease time.Duration
	// QueueCap and PruneInterval, when set, replace the engine's (tests).
	QueueCap      int
	PruneInterval time.Duration
	// RouteMaxAge, when set, replaces how long a tenant's routing table
	// is used without a rebuild (tests).
	RouteMaxAge time.Duration
	// Wrap, when set, wraps the server's handler (tests: the API tests
	// check every exchange against the OpenAPI document).
	Wrap func(http.Handler) http.Handler
	// Build is what this binary is: its version goes into the User-Agent
	// of every request and into hookline_build_info. Zero reads it from
	// the binary (buildinfo.Read).
	Build buildinfo.Info
}

// App is a running Hookline server.
type App struct {
	cfg    config.Config
	log    *slog.Logger
	store  store.Store
	engine *engine.Engine
	colls  *collection.Service
	exec   *delivery.Executor
	watch  *capture.Watchers
	sched  *workflow.Scheduler
	runner *workflow.Runner
	api    *api.Server
	srv    *http.Server
	ln     net.Listener
	// tls is nil without TLS; acmeSrv serves its challenge handler on
	// tls_http_addr (nil without one) and acmeServe is its Serve result.
	tls       *serverTLS
	acmeSrv   *http.Server
	acmeServe chan error
	lock      io.Closer
	build     buildinfo.Info
	clock     clock.Clock
	// out gets the one-time admin key, which Start issues when keyDue.
	out    io.Writer
	keyDue bool
	serve  chan error
	// stopOnce runs the first Stop or Kill; stopErr is that Stop's
	// result, which later calls return.
	stopOnce sync.Once
	stopErr  error
	// tracing exports spans; Stop flushes it.
	tracing *telemetry.Tracing
}

// maxHeaderBytes bounds a request's line and headers; the server answers
// more with 431 headers_too_large.
const maxHeaderBytes = 64 << 10

// changedDedup is how long a collection change's announcement is
// deduplicated: long enough to cover retries of the task that applied it.
const changedDedup = 7 * 24 * time.Hour

// New opens the data directory and store and builds the engine and HTTP
// server. Nothing runs until Start.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Build.Version == "" {
		opts.Build = buildinfo.Read()
	}
	userAgent := opts.Build.UserAgent()
	st, coord, lock, err := openStore(ctx, &cfg, opts.Clock)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
			lock.Close()
		}
	}()
	keyDue, err := bootstrap(ctx, st, cfg.APIKey, opts.Clock.Now())
	if err != nil {
		return nil, err
	}

	allow, err := netguard.ParsePrefixes(cfg.AllowNetworks)
	if err != nil {
		return nil, fmt.Errorf("allow_networks: %w", err)
	}
	guard := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks, Allow: allow}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(buildInfoGauge(opts.Build))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookline_tasks_pending", Help: "Tasks not yet succeeded or failed.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := st.PendingTasks(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))

	tracing, err := telemetry.New(cfg.Tracing, opts.Build.Version)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tracing.Shutdown(context.Background())
		}
	}()
	var tracer trace.Tracer
	if tracing.Enabled() {
		tracer = tracing.Tracer()
	}
	// client is an HTTP client of the destinations tenants name: it
	// reaches only what guard allows and carries the trace of the event
	// it works for.
	client := func() *http.Client { return tracing.Client(netguard.NewClient(guard)) }

	// routes is the one routing table; the domains fill it (Register
	// below) and on a cluster it hears the other nodes' changes.
	routes := route.New(route.Config{Clock: opts.Clock, Logger: log, Cluster: coord, MaxAge: opts.RouteMaxAge})
	hub := feed.New()
	// The engine comes first: the executors publish, schedule and lease
	// through it, and are registered with it (Register) once built.
	eng, err := engine.New(engine.Config{
		Store: st, Routers: []engine.Router{routes}, OnPublished: hub.Publish,
		Clock: opts.Clock, Logger: log, Metrics: engine.NewMetrics(reg), Rand: opts.Rand,
		Workers: cfg.Workers, MaxInFlight: cfg.MaxInFlight, ExclusiveStore: coord == nil, Retention: cfg.Retention,
		Cluster:      clusterConfig(cfg, routedCoordinator(coord, routes)),
		Breaker:      engine.Breaker{Threshold: cfg.BreakerThreshold, Cooldown: cfg.BreakerCooldown},
		PollInterval: opts.PollInterval, Lease: opts.Lease, QueueCap: opts.QueueCap, PruneInterval: opts.PruneInterval,
		CommitTimeout: cfg.CommitTimeout, Tracer: tracer,
	})
	if err != nil {
		return nil, err
	}
	// publishChanges publishes the events of changes (collection syncs,
	// workflow and content steps), deduplicated over the retries of the
	// task that made them.
	publishChanges := func(ctx context.Context, evs []event.Event) error {
		_, err := eng.PublishDedup(ctx, evs, changedDedup)
		return err
	}
	brokers := broker.NewPool(broker.PoolConfig{Dial: guard.Dial(), Clock: opts.Clock})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookline_broker_connections", Help: "Open connections to the message systems of endpoints.",
	}, func() float64 { return float64(brokers.Open()) }))
	exec := delivery.NewExecutor(delivery.ExecutorConfig{
		Store: st, Client: client(), Clock: opts.Clock, Logger: log, UserAgent: userAgent,
		Disabled: routes.Invalidate, DisableAfter: cfg.DisableAfter,
		Brokers: brokers,
		Emit: func(ctx context.Context, e event.Event) error {
			_, err := eng.Publish(ctx, []event.Event{e})
			return err
		},
	})
	colls := collection.New(collection.Config{
		Store: st, Client: client(), Clock: opts.Clock, Logger: log, UserAgent: userAgent,
		Dial: guard.Dial(), Rand: opts.Rand, Emit: publishChanges,
	})
	defer func() {
		if err != nil {
			colls.Close()
		}
	}()
	env := map[string]string{}
	for _, name := range cfg.WorkflowEnv {
		if v, ok := os.LookupEnv(name); ok {
			env[name] = v
		}
	}
	box, err := openBox(cfg)
	if err != nil {
		return nil, err
	}
	var mailer *email.Sender
	if cfg.SMTP.Host != "" {
		if mailer, err = email.New(email.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From}); err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
	}
	// closing ends the Server-Sent Events streams when the server starts
	// shutting down: they never finish by themselves, so a graceful stop
	// would otherwise wait them out.
	closing := make(chan struct{})
	notify := content.New(content.Config{
		Store: st, Client: client(), UserAgent: userAgent, Clock: opts.Clock, Logger: log, Collections: colls, Email: mailer,
		PublicURL: cfg.PublicURL, TokenKey: box.Derive("inbox tokens"), Closing: closing,
		Publish: publishChanges, Schedule: eng.Schedule, Lease: eng.Lease,
	})
	// workflow_env is the operator's: only the default tenant's runs see it.
	var envTenant string
	if def, err := st.TenantByName(ctx, "default"); err == nil {
		envTenant = def.ID
	}
	runner := workflow.New(workflow.Config{
		Store: st, Client: client(), Clock: opts.Clock, Logger: log, UserAgent: userAgent,
		Collections: colls, Records: st, Env: env, EnvTenant: envTenant, Notify: notify.NotifyStep, CheckNotify: content.CheckRule, Rand: opts.Rand, Waits: routes,
		ApprovalKey: box.Derive("approval links"), PublicURL: strings.TrimRight(cfg.PublicURL, "/"),
		Publish: publishChanges, Schedule: eng.Schedule, Lease: eng.Lease,
	})
	// In routing order: endpoints and subscriptions, workflows and their
	// waiting runs, notify rules, pull queues.
	routes.Register(delivery.NewRoutes(st, log), runner, notify, queue.Routes{Store: st})
	eng.Register(delivery.Kind, exec)
	eng.Register(delivery.KindForward, delivery.NewForwarder(exec))
	eng.Register(collection.Kind, colls.Executor())
	eng.Register(workflow.Kind, runner)
	eng.Register(content.KindNotify, notify.NotifyExecutor())
	eng.Register(content.KindMessage, notify.MessageExecutor())
	receiver := ingest.NewReceiver(ingest.ReceiverConfig{Store: st, Engine: eng, Clock: opts.Clock, Logger: log, Registerer: reg,
		LookupTimeout: cfg.CommitTimeout})
	watch := capture.NewWatchers(capture.WatchersConfig{
		Sources: st, Capture: sourceCapture, Dial: guard.Dial(), Clock: opts.Clock, Logger: log,
		Publish: func(ctx context.Context, evs []event.Event, window time.Duration) error {
			_, err := eng.PublishDedup(ctx, evs, window)
			return err
		},
	})
	sched := workflow.NewScheduler(workflow.SchedulerConfig{Runner: runner, Interval: opts.ScheduleInterval,
		Publish: func(ctx context.Context, ev event.Event, name string) error {
			_, err := eng.PublishTo(ctx, ev, []engine.Target{{Kind: workflow.Kind, DestinationID: name}})
			return err
		}})
	// invalidate makes routing and the executors see a tenant's endpoints,
	// subscriptions and collections change at once, and the schedules its
	// workflows'.
	invalidate := func(tenantID string) {
		routes.Invalidate(tenantID)
		exec.Invalidate(tenantID)
		colls.Invalidate(tenantID)
		if err := runner.PlanSchedules(context.Background(), tenantID); err != nil {
			log.Error("workflow schedules not planned", "tenant_id", tenantID, "error", err)
		}
	}
	apiSrv := api.New(api.Config{
		Store: st, Engine: eng, SourceChanged: func(name string) { receiver.Invalidate(name); watch.Changed() }, Feed: hub, Closing: closing, Collections: colls, Workflows: runner, Content: notify,
		CheckNotify: content.CheckRule, Invalidate: invalidate,
		Guard: guard, Clock: opts.Clock, Logger: log, MaxBody: cfg.MaxBodyBytes,
		CommitTimeout: cfg.CommitTimeout, RequestTimeout: max(api.DefaultRequestTimeout, cfg.CommitTimeout+5*time.Second),
		PortalPath: portalPath(cfg.Dashboard), PublicURL: cfg.PublicURL,
	})
	serverTLS, err := newServerTLS(cfg, log)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, tracing: tracing, store: st, engine: eng, api: apiSrv, lock: lock, colls: colls, exec: exec, watch: watch, sched: sched, runner: runner, build: opts.Build,
		clock: opts.Clock, out: opts.Out, keyDue: keyDue, tls: serverTLS}
	mux := http.NewServeMux()
	mux.Handle("/v1/", tracing.Handler(accesslog.Routed(apiSrv.Handler())))
	mux.Handle("/in/{source}", tracing.Handler(accesslog.Routed(receiver)))
	notify.Handle(mux)
	mux.Handle("/approve/{token}", tracing.Handler(accesslog.Routed(runner.ApprovalHandler())))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	if cfg.Dashboard != "off" {
		web.New(web.Config{
			Prefix: strings.TrimSuffix(cfg.Dashboard, "/"), Store: st, Engine: eng, Endpoints: apiSrv.Applier(), Events: apiSrv, Sources: apiSrv, PublicURL: cfg.PublicURL,
			Feed: hub, Closing: closing,
			Workflows: apiSrv.Applier(), Runs: runner, Previews: apiSrv, Inboxes: notify,
			Invalidate: invalidate, SessionKey: box.Derive("dashboard sessions"), SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"),
			Clock: opts.Clock, Logger: log, PortalFrameAncestors: cfg.PortalFrameAncestors,
		}).Mount(mux)
	}
	a.srv = &http.Server{
		Handler:           accesslog.Handler(wrap(opts.Wrap, apiSrv.Root(mux)), accesslog.Config{Logger: log, Clock: opts.Clock, Quiet: quietRoutes}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	a.srv.RegisterOnShutdown(sync.OnceFunc(func() { close(closing) }))
	if serverTLS != nil {
		a.srv.TLSConfig = serverTLS.config
	}
	if serverTLS != nil && serverTLS.challenge != nil {
		a.acmeSrv = &http.Server{
			Handler:           serverTLS.challenge,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	return a, nil
}

// portalPath is the path of the customer portal's one-time links on the
// dashboard at prefix, before their token; "" when the dashboard is off.
func portalPath(dashboard string) string {
	if dashboard == "off" {
		return ""
	}
	return strings.TrimSuffix(dashboard, "/") + portal.LinkPath
}

// quietRoutes are logged at debug, not info: probes and scrapes come
// every few seconds and say nothing about the traffic.
var quietRoutes = map[string]bool{"GET /metrics": true, "GET /healthz": true, "GET /readyz": true}

// readyTimeout bounds the ping of /readyz.
const readyTimeout = 2 * time.Second

// ready serves /readyz: 503 while writes fail (the engine's Health: the
// last write failed for a fault of the database, until a write or a probe
// succeeds) or the database does not answer a ping; 200 otherwise.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	err := a.engine.Health()
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err = a.store.Ping(ctx)
		cancel()
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	io.WriteString(w, `{"status":"ready"}`+"\n")
}

// Start listens on the configured address, issues the one-time admin key
// on a first start, and starts the engine.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return &listenError{addr: a.cfg.Addr, err: err}
	}
	var acmeLn net.Listener
	if a.acmeSrv != nil {
		if acmeLn, err = net.Listen("tcp", a.cfg.TLSHTTPAddr); err != nil {
			ln.Close()
			return &listenError{addr: a.cfg.TLSHTTPAddr, err: err}
		}
	}
	closeListeners := func() {
		ln.Close()
		if acmeLn != nil {
			acmeLn.Close()
		}
	}
	// Only now: a start that cannot listen must not use up the key.
	if a.keyDue {
		if err := issueAdminKey(ctx, a.store, a.clock.Now(), a.out); err != nil {
			closeListeners()
			return err
		}
		a.keyDue = false
	}
	if err := a.engine.Start(ctx); err != nil {
		closeListeners()
		return err
	}
	a.watch.Start(ctx)
	a.colls.Start(ctx)
	a.planSchedules(ctx)
	a.sched.Start(ctx)
	a.ln = ln
	a.serve = make(chan error, 1)
	attrs := []any{"addr", ln.Addr().String()}
	if a.tls == nil {
		go func() { a.serve <- a.srv.Serve(api.ErrorListener(ln, maxHeaderBytes)) }()
	} else {
		// ServeTLS offers HTTP/2 (ALPN h2) besides HTTP/1.1. The
		// server's own plain-text error answers are not rewritten to
		// JSON here: ErrorListener would hide the *tls.Conn net/http
		// looks for.
		go func() { a.serve <- a.srv.ServeTLS(ln, "", "") }()
		attrs = append(attrs, "tls", a.tls.mode)
	}
	if acmeLn != nil {
		a.acmeServe = make(chan error, 1)
		go func() { a.acmeServe <- a.acmeSrv.Serve(acmeLn) }()
		attrs = append(attrs, "acme_http_addr", acmeLn.Addr().String())
	}
	attrs = append(attrs, storeLogAttrs(a.cfg)...)
	a.log.InfoContext(ctx, "hookline listening", append(attrs, "version", a.build.Version)...)
	return nil
}

// listenError is an address Start could not listen on.
type listenError struct {
	addr string
	err  error
}

func (e *listenError) Error() string {
	if errors.Is(e.err, syscall.EADDRINUSE) {
		return fmt.Sprintf("cannot listen on %s: the address is already in use. Is another hookline serve running? "+
			"Stop it, or choose another address with --addr or %s", e.addr, config.EnvVar("addr"))
	}
	return fmt.Sprintf("listen on %s: %v", e.addr, e.err)
}

func (e *listenError) Unwrap() error { return e.err }

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Apply makes the default tenant's resources match d with the Applier
// POST /v1/apply uses (see the apply package for what is written when);
// it needs no listener. A declaration with a mistake changes nothing and
// is an *apply.Error naming the resource and field.
func (a *App) Apply(ctx context.Context, d wire.Declaration) (wire.ApplyResult, error) {
	t, err := a.store.TenantByName(ctx, DefaultTenant)
	if err != nil {
		return wire.ApplyResult{}, fmt.Errorf("apply: find the %s tenant: %w", DefaultTenant, err)
	}
	return a.api.Applier().Apply(ctx, t.ID, d, false)
}

// Store returns the app's store (tests inspect it).
func (a *App) Store() store.Store { return a.store }

// Run starts the app, waits for ctx to end, then stops it gracefully
// within the configured shutdown timeout.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		// Nothing runs: close the store and free the data dir.
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, a.Stop(sctx))
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-a.serve:
		a.serve <- serveErr
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, a.Stop(sctx))
}

// Stop stops accepting requests, finishes in-flight requests and
// deliveries until ctx ends (the rest keep their leases and resume on the
// next start), flushes the writer and closes the store. Only the first
// call stops the app: later ones (and one after Kill) wait for it to end
// and return its result (nil after Kill).
func (a *App) Stop(ctx context.Context) error {
	a.stopOnce.Do(func() { a.stopErr = a.stop(ctx) })
	return a.stopErr
}

func (a *App) stop(ctx context.Context) error {
	var errs []error
	if a.ln != nil {
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop http: %w", err))
		}
		if err := <-a.serve; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if a.acmeServe != nil {
		if err := a.acmeSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop acme http: %w", err))
		}
		if err := <-a.acmeServe; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	a.watch.Stop()
	a.sched.Stop()
	if err := a.engine.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	a.colls.Close()
	a.exec.Close()
	errs = append(errs, a.tracing.Shutdown(ctx), a.store.Close(), a.lock.Close())
	return errors.Join(errs...)
}

// Kill stops the app abruptly, as a crash would: connections are dropped,
// running deliveries abandoned with their leases held, nothing flushed.
// After Stop or Kill it does nothing.
func (a *App) Kill() { a.stopOnce.Do(a.kill) }

func (a *App) kill() {
	a.srv.Close()
	if a.serve != nil {
		<-a.serve
	}
	if a.acmeServe != nil {
		a.acmeSrv.Close()
		<-a.acmeServe
	}
	a.watch.Stop()
	a.sched.Stop()
	a.engine.Kill()
	a.colls.Close()
	a.exec.Close()
	// A crash exports nothing more: no wait on the collector.
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.tracing.Shutdown(dead)
	a.store.Close()
	a.lock.Close()
}

// sourceCapture is the change capture configuration of a stored postgres
// source (capture cannot parse sources: ingest imports it).
func sourceCapture(src store.Source) (capture.Config, bool) {
	parsed, err := ingest.Parse(src)
	if err != nil {
		return capture.Config{}, false
	}
	return parsed.Capture()
}

// buildInfoGauge is hookline_build_info: always 1, the build in its labels,
// so dashboards can show (and alert on) which version each server runs.
func buildInfoGauge(b buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hookline_build_info",
		Help:        "Always 1; the labels name the version, VCS revision and Go version of the running server.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "go_version": b.GoVersion},
	})
	g.Set(1)
	return g
}

// wrap returns h wrapped by w, or h when w is nil.
func wrap(w func(http.Handler) http.Handler, h http.Handler) http.Handler {
	if w == nil {
		return h
	}
	return w(h)
}

// planSchedules plans every tenant's workflow schedules at start, in case
// a change was saved while planning failed.
func (a *App) planSchedules(ctx context.Context) {
	tenants, err := a.store.ListTenants(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "workflow schedules not planned", "error", err)
		return
	}
	for _, t := range tenants {
		if err := a.runner.PlanSchedules(ctx, t.ID); err != nil {
			a.log.ErrorContext(ctx, "workflow schedules not planned", "tenant_id", t.ID, "error", err)
		}
	}
}
