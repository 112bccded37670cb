package web_test

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

var update = flag.Bool("update", false, "write the browser test's screenshots to docs/dashboard/")

// chromium finds a Chromium or Chrome to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found: install the Debian package chromium (apt-get install -y chromium) to run the browser tests")
	return ""
}

// tab is one headless Chromium tab that records what a page does wrong:
// console errors, uncaught exceptions, browser log errors (a CSP
// violation among them), failed requests and answers of 400 and above.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	bad []string
	// shots is where screenshots go.
	shots string
}

// browserSetup opens a tab, then starts a server with the dashboard at
// "/": the server stops before the browser closes.
func browserSetup(t *testing.T) (*tab, *bundle) {
	t.Helper()
	tb := newTab(t)
	return tb, setup(t, "")
}

func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.DisableGPU,
		chromedp.WindowSize(1200, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	tb := &tab{t: t, shots: t.TempDir()}
	if *update {
		tb.shots = filepath.Join("..", "..", "docs", "dashboard")
		require.NoError(t, os.MkdirAll(tb.shots, 0o755))
	}
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(tb.listen))
	t.Cleanup(cancelTab)
	tb.ctx = ctx
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{})
		return err
	})))
	return tb
}

// listen records what goes wrong on a page. It runs on the tab's reading
// goroutine: it only appends under the lock.
func (tb *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, cmp.Or(a.Description, string(a.Value)))
			}
			tb.fail("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := d.Text
		if d.Exception != nil {
			desc += " " + d.Exception.Description
		}
		tb.fail("exception: %s at %s:%d", desc, d.URL, d.LineNumber)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			tb.fail("browser log: %s %s", ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			tb.fail("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			tb.fail("%d for %s", ev.Response.Status, ev.Response.URL)
		}
	}
}

func (tb *tab) fail(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.bad = append(tb.bad, fmt.Sprintf(format, args...))
}

// clean requires that nothing went wrong on the pages seen so far.
func (tb *tab) clean(where string) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	require.Empty(tb.t, tb.bad, "console errors or failed requests on %s", where)
}

// run runs steps with a deadline.
func (tb *tab) run(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, steps...))
}

// value runs one action that returns a value, with a deadline.
func value[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(tb.t, err)
	return v
}

// shot saves a screenshot of the whole page as name.png.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	png := value(tb, chromedp.FullScreenshot(100))
	require.NoError(tb.t, os.WriteFile(filepath.Join(tb.shots, name+".png"), png, 0o644))
}

// text returns the text of the first element matching the CSS selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return value(tb, chromedp.Text(chromedp.CSS(sel)))
}

// TestBrowser drives the dashboard in headless Chromium, as an operator
// does: sign in, create an endpoint, publish, find the delivery and its
// failed attempt, retry it, and see it succeed; then look at every page
// narrow and dark. No page may log a console error or fail a request.
func TestBrowser(t *testing.T) {
	t.Parallel()
	tb, b := browserSetup(t)
	rc := newReceiver(t, http.StatusServiceUnavailable)

	tb.run(chromedp.Navigate(b.base + "/"))
	tb.run(chromedp.WaitVisible(chromedp.ID("api_key")))
	tb.shot("signin")
	tb.run(
		chromedp.SendKeys(chromedp.ID("api_key"), b.key),
		chromedp.Submit(chromedp.ID("api_key")),
		chromedp.WaitVisible(`//h1[text()="Overview"]`),
	)
	require.Contains(t, tb.text(".empty"), "No endpoints yet")
	tb.clean("sign-in and overview")

	// Create an endpoint through the form; its secret shows once.
	tb.run(
		chromedp.Click(`//nav//a[text()="Endpoints"]`),
		chromedp.WaitVisible(`//a[text()="New endpoint"]`),
		chromedp.Click(`//a[text()="New endpoint"]`),
		chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SendKeys(chromedp.ID("url"), rc.URL+"/orders"),
		chromedp.SendKeys(chromedp.ID("name"), "orders"),
		chromedp.SendKeys(chromedp.ID("event_types"), "order.created"),
		chromedp.Submit(chromedp.ID("url")),
		chromedp.WaitVisible(chromedp.ID("secret-value")),
	)
	secret := tb.text("#secret-value")
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	tb.shot("endpoint-created")
	tb.clean("endpoint creation")

	// On the endpoint's page the secret is hidden until asked; htmx loads
	// it in place.
	tb.run(
		chromedp.Click(`//nav//a[text()="Endpoints"]`),
		chromedp.WaitVisible(`//a[text()="orders"]`),
		chromedp.Click(`//a[text()="orders"]`),
		chromedp.WaitVisible(`//a[text()="Show secret"]`),
		chromedp.Click(`//a[text()="Show secret"]`),
		chromedp.WaitVisible(chromedp.ID("secret-value")),
	)
	require.Equal(t, secret, tb.text("#secret-value"))
	loc := value(tb, chromedp.Location())
	require.NotContains(t, loc, "/secret", "loaded in place, not by navigation")
	tb.clean("show secret")

	// Publish through the API: the receiver answers 503, so the delivery
	// is retrying with one failed attempt.
	ev, err := b.api.SendEvent(context.Background(), client.EventCreate{Type: "order.created",
		Data: json.RawMessage(`{"order_id": "ord_1", "total": 4200, "currency": "EUR"}`)})
	require.NoError(t, err)
	eventually(t, func() bool { return rc.hits.Load() >= 1 }, "the receiver is called")

	tb.run(chromedp.Click(`//nav//a[text()="Deliveries"]`), chromedp.WaitVisible(`//h1[text()="Deliveries"]`))
	tb.reloadUntil(func() bool { return strings.Contains(tb.text("table"), "retrying") }, "the delivery is listed as retrying")
	tb.shot("deliveries")
	tb.run(chromedp.Click(chromedp.CSS(`table a[href^="/deliveries/dlv_"]`)), chromedp.WaitVisible(chromedp.ID("attempt-1")))
	attempt := tb.text("#attempt-1")
	require.Contains(t, attempt, "http 503")
	require.Contains(t, attempt, `"order_id": "ord_1"`, "the request body, formatted")
	require.Contains(t, attempt, "redacted", "the signature header is redacted")
	tb.shot("delivery-failed")
	tb.clean("the delivery")

	// Retry it once the receiver is fixed.
	rc.status.Store(http.StatusOK)
	tb.run(chromedp.Click(chromedp.ID("retry")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	require.Contains(t, tb.text(".flash"), "queued to run again")
	tb.reloadUntil(func() bool { return tb.text("#delivery-status") == "succeeded" }, "the retried delivery succeeds")
	// The last attempt is the retry's: on a slow run the engine's own retry
	// (5 s after the first) may have met the 503 before the fix.
	last := value(tb, chromedp.Evaluate[string](`[...document.querySelectorAll('[id^="attempt-"]')].sort((a, b) => a.id.slice(8) - b.id.slice(8)).pop().textContent`))
	require.Contains(t, last, "success")
	tb.shot("delivery-retried")
	tb.clean("the retry")

	// Every other page, with data.
	for _, p := range []struct{ path, name, wait string }{
		{"/", "overview", ".chart"},
		{"/endpoints", "endpoints", "table"},
		{"/events", "events", "table"},
		{"/events/" + ev.ID, "event", ".json"},
	} {
		tb.run(chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		tb.shot(p.name)
		tb.clean(p.path)
		if p.path == "/" {
			require.Contains(t, tb.text(".legend"), "delivered: 1")
		}
	}

	// Keyboard: the first Tab reaches the skip link.
	tb.run(chromedp.KeyEvent("\t"))
	focused := value(tb, chromedp.Evaluate[string](`document.activeElement.textContent`))
	require.Equal(t, "Skip to content", focused)

	// 360 px wide: nothing scrolls sideways but the tables' own boxes.
	tb.run(chromedp.EmulateViewport(360, 740))
	for _, path := range []string{"/", "/endpoints", "/deliveries"} {
		tb.run(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		fits := value(tb, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.True(t, fits, "%s is readable at 360 px", path)
	}
	tb.run(chromedp.Navigate(b.base + "/deliveries"))
	tb.shot("deliveries-narrow")

	// Dark mode follows the system setting.
	tb.run(chromedp.EmulateViewport(1200, 900),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}),
		chromedp.Navigate(b.base+"/endpoints"), chromedp.WaitVisible(chromedp.CSS("table")))
	bg := value(tb, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	require.Equal(t, "rgb(18, 19, 22)", bg)
	tb.shot("endpoints-dark")
	tb.clean("narrow and dark pages")

	// Sign out: back to the sign-in page.
	tb.run(chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(chromedp.ID("api_key")))
	tb.clean("sign-out")
}

// reloadUntil reloads the page until cond holds, for 10 s at most.
func (tb *tab) reloadUntil(cond func() bool, msg string) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out: %s", msg)
		}
		<-tick.C
		tb.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main")))
	}
}
