package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/store"
)

// Bounds of what one overview reads: the chart's window, and how many of
// the newest events and deliveries the store counts at most to draw it (a
// busier hour is drawn from its newest rows and says so). The backlog counts up to
// backlogCap; the endpoint lists look at the first maxEndpoints.
const (
	chartMinutes = 60
	chartCap     = 100_000
	backlogCap   = 1000
	maxEndpoints = 1000
)

type overviewView struct {
	Chart    chart
	Pending  string
	Retrying string
	// Failing, Open and Disabled are endpoints needing attention.
	Failing, Open, Disabled []endpointRow
	Endpoints               int
	MoreEndpoints           bool
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess *session) error {
	ctx := r.Context()
	var v overviewView
	var err error
	if v.Chart, err = s.chart(ctx, sess.TenantID); err != nil {
		return err
	}
	if v.Pending, err = s.backlog(ctx, sess.TenantID, store.StatusPending); err != nil {
		return err
	}
	if v.Retrying, err = s.backlog(ctx, sess.TenantID, store.StatusRetrying); err != nil {
		return err
	}
	eps, err := s.cfg.Store.ListEndpoints(ctx, sess.TenantID, store.Page{Limit: maxEndpoints + 1})
	if err != nil {
		return err
	}
	if len(eps) > maxEndpoints {
		eps, v.MoreEndpoints = eps[:maxEndpoints], true
	}
	v.Endpoints = len(eps)
	for _, ep := range eps {
		row := endpointRow{Endpoint: ep, Circuit: s.cfg.Engine.Circuit(delivery.Kind, ep.ID)}
		switch {
		case !ep.Enabled:
			v.Disabled = append(v.Disabled, row)
		case row.Circuit == "open":
			v.Open = append(v.Open, row)
		case !ep.FailingSince.IsZero():
			v.Failing = append(v.Failing, row)
		}
	}
	return s.page(w, r, sess, "overview", view{Title: "Overview", Nav: "overview", Data: v})
}

// backlog is how many deliveries have a status, counted up to backlogCap
// ("1000+" beyond): no full-table count.
func (s *Server) backlog(ctx context.Context, tenantID, status string) (string, error) {
	ts, err := s.cfg.Store.ListTasks(ctx, tenantID, store.TaskQuery{Page: store.Page{Limit: backlogCap + 1}, Status: status})
	if err != nil {
		return "", err
	}
	if len(ts) > backlogCap {
		return strconv.Itoa(backlogCap) + "+", nil
	}
	return strconv.Itoa(len(ts)), nil
}

// chart is the overview's per-minute chart, drawn by the server as SVG.
type chart struct {
	Width, Height int
	Series        []series
	// YMax is the top of the scale; Ticks label the time axis.
	YMax    int
	Ticks   []tick
	Capped  bool
	Summary string
}

type series struct {
	Name, Class string
	Bars        []bar // minutes with a count, as SVG rectangles
	Total       int
}

// bar is one minute of one series: a rectangle and its tooltip.
type bar struct {
	X, Y, W, H int
	Title      string
}

type tick struct {
	X     int
	Label string
}

// chart draws, per minute of the last hour, the events accepted and the
// deliveries that succeeded or failed for good (by their last update),
// as the store counts them from the newest chartCap rows of each.
func (s *Server) chart(ctx context.Context, tenantID string) (chart, error) {
	now := s.clock.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	since := now.Add(-chartMinutes * time.Minute)
	act, err := s.cfg.Store.Activity(ctx, tenantID, store.ActivityQuery{Since: since, Limit: chartCap})
	if err != nil {
		return chart{}, err
	}
	var accepted, delivered, failed [chartMinutes]int
	for _, m := range act.Minutes {
		if m.Minute.Before(since) || !m.Minute.Before(now) {
			continue
		}
		i := int(m.Minute.Sub(since) / time.Minute)
		accepted[i] += m.Accepted
		delivered[i] += m.Succeeded
		failed[i] += m.Failed
	}
	c := chart{Width: 600, Height: 160, Capped: act.Capped}
	for _, xs := range [][chartMinutes]int{accepted, delivered, failed} {
		for _, n := range xs {
			c.YMax = max(c.YMax, n)
		}
	}
	c.YMax = max(c.YMax, 1)
	for i, xs := range [][chartMinutes]int{accepted, delivered, failed} {
		name := []string{"accepted", "delivered", "failed"}[i]
		c.Series = append(c.Series, c.bars(name, i, 3, since, xs))
	}
	for m := 0; m <= chartMinutes; m += 15 {
		c.Ticks = append(c.Ticks, tick{X: c.x(m), Label: since.Add(time.Duration(m) * time.Minute).Format("15:04")})
	}
	c.Summary = fmt.Sprintf("Last %d minutes (UTC): %d events accepted, %d deliveries succeeded, %d failed.",
		chartMinutes, c.Series[0].Total, c.Series[1].Total, c.Series[2].Total)
	return c, nil
}

// Plot area inside the SVG: margins for the axis labels.
const (
	plotLeft   = 40
	plotBottom = 20
	plotTop    = 8
)

func (c chart) x(minute int) int {
	return plotLeft + minute*(c.Width-plotLeft-8)/chartMinutes
}

func (c chart) y(n int) int {
	h := c.Height - plotBottom - plotTop
	return plotTop + h - n*h/c.YMax
}

// bars draws a series as one bar per minute with a count, side by side
// with the other series' bars of that minute (index i of n series).
func (c chart) bars(name string, i, n int, since time.Time, xs [chartMinutes]int) series {
	out := series{Name: name, Class: "s-" + name}
	slot := c.x(1) - c.x(0)
	w := max((slot-1)/n, 1)
	for m, v := range xs {
		out.Total += v
		if v == 0 {
			continue
		}
		y := c.y(v)
		out.Bars = append(out.Bars, bar{X: c.x(m) + i*w, Y: y, W: w, H: c.y(0) - y,
			Title: fmt.Sprintf("%s UTC: %d %s", since.Add(time.Duration(m)*time.Minute).Format("15:04"), v, name)})
	}
	return out
}
