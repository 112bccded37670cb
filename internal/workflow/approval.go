package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// ApprovalType is the type of the event an approval step emits when it
// starts waiting: its message and links, for a notify rule, an endpoint
// or another workflow to hand to the person who decides.
const ApprovalType = "workflow.approval_requested"

// MaxComment bounds a decision's comment, in bytes.
const MaxComment = 2000

// ErrNotAwaitingApproval is returned by Decide for a run that does not
// wait on an approval (any more).
var ErrNotAwaitingApproval = errors.New("the run is not waiting on an approval")

// Decision is a person's answer to an approval step.
type Decision struct {
	Approved bool
	Comment  string
	// By is how it came: "api" or "link".
	By string
	// Seq, when not 0, is the step's position the decision is for (a
	// link's): a run that moved on since refuses it.
	Seq int
}

// approvalStep starts waiting for a decision: its output is the message
// and the links, and an event carries them out.
func (p *progress) approvalStep(s *step, vars map[string]any) result {
	until := p.now.Add(s.wait)
	out := map[string]any{"expires_at": until}
	if s.message != nil {
		msg, err := s.message.Render(vars)
		if err != nil {
			return result{err: failure(fmt.Errorf("message: %w", err), false)}
		}
		out["message"] = msg
	}
	if len(p.r.cfg.ApprovalKey) > 0 {
		link := p.r.cfg.PublicURL + "/approve/" + p.r.approvalToken(p.run.TenantID, p.run.ID, p.st.Seq, until)
		out["approve_url"], out["reject_url"] = link, link+"?decision=reject"
	}
	data, _ := json.Marshal(map[string]any{
		"workflow": p.run.Workflow, "version": p.run.Version, "run_id": p.run.ID, "step": s.id,
		"message": out["message"], "approve_url": out["approve_url"], "reject_url": out["reject_url"], "expires_at": until,
	})
	p.emit = append(p.emit, event.Event{
		ID: event.NewID(event.PrefixEvent, p.now), TenantID: p.run.TenantID, Type: ApprovalType, Source: "workflow:" + p.run.Workflow,
		Data: data, OccurredAt: p.now, CreatedAt: p.now, IdempotencyKey: fmt.Sprintf("%s:approval:%d", p.run.ID, p.st.Seq),
	})
	return result{input: map[string]any{"until": until}, output: out, wait: &wait{Step: s.id, Kind: KindApproval, Until: until, Since: p.now}}
}

// Decide hands a run waiting on an approval its decision, which becomes
// the step's output; the save that records it holds the task that moves
// the run on.
func (r *Runner) Decide(ctx context.Context, tenantID, id string, d Decision) (store.Run, error) {
	run, err := r.cfg.Store.GetRun(ctx, tenantID, id)
	if err != nil {
		return run, err
	}
	p := &progress{r: r, run: run, rev: run.Rev, now: r.cfg.Clock.Now(), waitWas: waitOf(run)}
	if err := json.Unmarshal(run.State, &p.st); err != nil {
		return run, fmt.Errorf("run %s: state: %w", id, err)
	}
	wt := p.st.Wait
	if run.Status != store.RunWaiting || wt == nil || wt.Kind != KindApproval || (d.Seq != 0 && d.Seq != p.st.Seq) {
		return run, ErrNotAwaitingApproval
	}
	w, _, err := r.Load(ctx, tenantID, run.Workflow, run.Version)
	if err != nil {
		return run, err
	}
	var ok bool
	if p.w, ok = w.scope(p.st.Scope); !ok {
		return run, store.ErrNotFound
	}
	s, i, ok := p.w.step(wt.Step)
	if !ok {
		return run, ErrNotAwaitingApproval
	}
	if p.st.Steps == nil {
		p.st.Steps = map[string]stepResult{}
	}
	out := map[string]any{"approved": d.Approved, "comment": clip.To(d.Comment, MaxComment), "decided_by": d.By, "decided_at": p.now}
	p.st.Steps[s.id] = stepResult{Status: "succeeded", Output: out}
	p.st.Last = s.id
	p.log(s, "succeeded", 1, map[string]any{"until": wt.Until}, out, "", wt.began(p.now))
	p.goTo(p.w.after(i))
	if err := p.save(ctx); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// The timeout or another decision came first.
			return run, ErrNotAwaitingApproval
		}
		return run, err
	}
	saved := p.run
	saved.Rev = p.rev + 1
	return saved, nil
}

// approvalToken signs a link to decide the approval a run waits on at
// step position seq, good until expires.
func (r *Runner) approvalToken(tenantID, runID string, seq int, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(tenantID + "\x00" + runID + "\x00" + strconv.Itoa(seq) + "\x00" + strconv.FormatInt(expires.Unix(), 10)))
	return "ap_" + payload + "." + r.approvalMAC(payload)
}

func (r *Runner) approvalMAC(payload string) string {
	m := hmac.New(sha256.New, r.cfg.ApprovalKey)
	m.Write([]byte("approval\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// approvalLink is a checked link token.
type approvalLink struct {
	tenantID, runID string
	seq             int
	expires         time.Time
}

// parseApprovalToken checks a token's signature and reads it.
func (r *Runner) parseApprovalToken(tok string) (approvalLink, bool) {
	rest, found := strings.CutPrefix(tok, "ap_")
	if !found || len(r.cfg.ApprovalKey) == 0 || len(tok) > 512 {
		return approvalLink{}, false
	}
	payload, sig, found := strings.Cut(rest, ".")
	if !found || !hmac.Equal([]byte(sig), []byte(r.approvalMAC(payload))) {
		return approvalLink{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return approvalLink{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 4 {
		return approvalLink{}, false
	}
	seq, err1 := strconv.Atoi(parts[2])
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return approvalLink{}, false
	}
	return approvalLink{tenantID: parts[0], runID: parts[1], seq: seq, expires: time.Unix(exp, 0)}, true
}

var approvalPage = template.Must(template.New("approval").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}textarea{width:100%}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
<p>Workflow {{.Workflow}}, run <code>{{.RunID}}</code>.</p>
{{if .Ask}}<form method="post">
<p><label>Comment (optional)<br><textarea name="comment" rows="3" maxlength="2000"></textarea></label></p>
{{if .Reject}}<button name="decision" value="reject">Reject</button><button name="decision" value="approve">Approve</button>
{{else}}<button name="decision" value="approve">Approve</button><button name="decision" value="reject">Reject</button>{{end}}
</form>{{end}}
</body></html>
`))

type approvalView struct {
	Title, Message, Workflow, RunID string
	Ask, Reject                     bool
}

// ApprovalHandler serves GET and POST /approve/{token}: GET shows the
// approval asked for with Approve and Reject buttons and changes nothing
// (mail scanners open links); POST decides. A link decides once.
func (r *Runner) ApprovalHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		link, ok := r.parseApprovalToken(req.PathValue("token"))
		if !ok {
			r.approvalAnswer(w, http.StatusNotFound, approvalView{Title: "No such approval link"})
			return
		}
		if !r.cfg.Clock.Now().Before(link.expires) {
			r.approvalAnswer(w, http.StatusGone, approvalView{Title: "This approval link has expired"})
			return
		}
		run, err := r.cfg.Store.GetRun(req.Context(), link.tenantID, link.runID)
		if errors.Is(err, store.ErrNotFound) {
			r.approvalAnswer(w, http.StatusNotFound, approvalView{Title: "No such approval link"})
			return
		}
		if err != nil {
			http.Error(w, "the run could not be read", http.StatusInternalServerError)
			return
		}
		view := approvalView{Workflow: run.Workflow, RunID: run.ID}
		var st state
		_ = json.Unmarshal(run.State, &st)
		if run.Status != store.RunWaiting || st.Wait == nil || st.Wait.Kind != KindApproval || st.Seq != link.seq {
			view.Title = "This approval was already decided"
			r.approvalAnswer(w, http.StatusConflict, view)
			return
		}
		if msg, ok := st.Steps[st.Wait.Step].Output.(map[string]any); ok {
			view.Message, _ = msg["message"].(string)
		}
		if req.Method == http.MethodGet {
			view.Title, view.Ask, view.Reject = "Approval requested", true, req.URL.Query().Get("decision") == "reject"
			r.approvalAnswer(w, http.StatusOK, view)
			return
		}
		req.Body = http.MaxBytesReader(w, req.Body, 16<<10)
		if err := req.ParseForm(); err != nil {
			http.Error(w, "the form could not be read: "+err.Error(), http.StatusBadRequest)
			return
		}
		decision := req.PostForm.Get("decision")
		if decision != "approve" && decision != "reject" {
			http.Error(w, `decision must be "approve" or "reject"`, http.StatusBadRequest)
			return
		}
		comment := req.PostForm.Get("comment")
		if len(comment) > MaxComment {
			http.Error(w, fmt.Sprintf("the comment is longer than %d bytes", MaxComment), http.StatusBadRequest)
			return
		}
		_, err = r.Decide(req.Context(), link.tenantID, link.runID, Decision{Approved: decision == "approve", Comment: comment, By: "link", Seq: link.seq})
		switch {
		case errors.Is(err, ErrNotAwaitingApproval):
			view.Title = "This approval was already decided"
			r.approvalAnswer(w, http.StatusConflict, view)
		case err != nil:
			r.cfg.Logger.ErrorContext(req.Context(), "approval not decided", "run_id", run.ID, "error", err)
			http.Error(w, "the decision could not be saved", http.StatusInternalServerError)
		case decision == "approve":
			view.Title = "Approved"
			r.approvalAnswer(w, http.StatusOK, view)
		default:
			view.Title = "Rejected"
			r.approvalAnswer(w, http.StatusOK, view)
		}
	})
}

func (r *Runner) approvalAnswer(w http.ResponseWriter, status int, v approvalView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = approvalPage.Execute(w, v)
}
