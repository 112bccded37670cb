package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/hookline/hookline/internal/store"
)

// cookieName is the session cookie. Its value is sealed (AES-GCM with the
// session key): the hash of the API key signed in with, its tenant and
// the session's expiry. The raw key is never stored, and a key deleted
// through the API ends its sessions at their next request.
const cookieName = "hookline_session"

// session is a signed-in user: the tenant of the API key they signed in
// with.
type session struct {
	// ID names the session, so signing out can end it on the server.
	ID       string `json:"i"`
	TenantID string `json:"t"`
	KeyID    string `json:"k"`
	// KeyHash is the API key's SHA-256, as stored.
	KeyHash []byte    `json:"h"`
	Expires time.Time `json:"e"`
	// TenantName is looked up per request, for the header.
	TenantName string `json:"-"`
}

// hashKey is the stored hash of an API key: SHA-256, as api.HashKey has
// it (a test holds the two to the same answer).
func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// session returns the request's session, or answers the request itself
// (a redirect to sign in, or an error page) and returns false.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*session, bool) {
	sess, err := s.open(r)
	if err == nil {
		err = s.valid(r.Context(), sess)
	}
	if err == nil {
		if t, terr := s.cfg.Store.GetTenant(r.Context(), sess.TenantID); terr == nil {
			sess.TenantName = t.Name
		}
	}
	if errors.Is(err, errSignedOut) {
		s.clearCookie(w, r)
		if r.Method != http.MethodGet {
			s.fail(w, r, http.StatusUnauthorized, "Your session ended. Sign in again, then repeat what you did.")
			return nil, false
		}
		next := strings.TrimPrefix(r.URL.RequestURI(), s.prefix)
		http.Redirect(w, r, s.prefix+"/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil, false
	}
	if err != nil {
		s.handleError(w, r, err)
		return nil, false
	}
	return sess, true
}

var errSignedOut = errors.New("not signed in")

// valid checks an opened session against the store: errSignedOut once it
// expired, was signed out, or its key was deleted. A live stream checks
// its session again now and then with it.
func (s *Server) valid(ctx context.Context, sess *session) error {
	if !s.clock.Now().Before(sess.Expires) {
		return errSignedOut
	}
	ended, err := s.cfg.Store.SessionEnded(ctx, sess.ID)
	if err != nil {
		return err
	}
	if ended {
		return errSignedOut
	}
	k, err := s.cfg.Store.APIKeyByHash(ctx, sess.KeyHash)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && (k.ID != sess.KeyID || k.TenantID != sess.TenantID)):
		return errSignedOut
	case err != nil:
		return err
	}
	return nil
}

// open reads the session cookie: errSignedOut when there is none, it does
// not open or it expired.
func (s *Server) open(r *http.Request) (*session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, errSignedOut
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, errSignedOut
	}
	plain, err := s.box.Open(raw)
	if err != nil {
		return nil, errSignedOut
	}
	var sess session
	if err := json.Unmarshal(plain, &sess); err != nil || sess.ID == "" || !s.clock.Now().Before(sess.Expires) {
		return nil, errSignedOut
	}
	return &sess, nil
}

// cookie is the session cookie with its attributes: HttpOnly,
// SameSite=Strict, scoped to the dashboard's path, Secure over TLS.
func (s *Server) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: s.prefix + "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.cfg.SecureCookies,
	}
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, "", -1))
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	s.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", Data: signinView{Next: safeNext(r.URL.Query().Get("next"))}})
	return nil
}

type signinView struct {
	Next  string
	Error string
}

// signin checks the API key of the form as the API does and, for a key
// it knows, starts a session for the key's tenant.
func (s *Server) signin(w http.ResponseWriter, r *http.Request, _ *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	key := strings.TrimSpace(r.PostFormValue("api_key"))
	next := safeNext(r.PostFormValue("next"))
	if key == "" || len(key) > 200 {
		s.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Data: signinView{Next: next, Error: "Enter an API key."}})
		return nil
	}
	hash := hashKey(key)
	k, err := s.cfg.Store.APIKeyByHash(r.Context(), hash)
	if errors.Is(err, store.ErrNotFound) {
		s.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Data: signinView{Next: next,
			Error: "That API key is not valid. Use a key of your tenant, such as the one serve printed on first start."}})
		return nil
	}
	if err != nil {
		return err
	}
	sess := session{ID: rand.Text(), TenantID: k.TenantID, KeyID: k.ID, KeyHash: hash, Expires: s.clock.Now().Add(s.cfg.SessionTTL)}
	plain, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, base64.RawURLEncoding.EncodeToString(s.box.Seal(plain)), int(s.cfg.SessionTTL/time.Second)))
	http.Redirect(w, r, s.prefix+next, http.StatusSeeOther)
	return nil
}

// signout ends the session on the server too: a copy of the cookie taken
// before no longer opens a page.
func (s *Server) signout(w http.ResponseWriter, r *http.Request, _ *session) error {
	if sess, err := s.open(r); err == nil {
		if err := s.cfg.Store.EndSession(r.Context(), sess.ID, sess.Expires); err != nil {
			return err
		}
	}
	s.clearCookie(w, r)
	s.redirect(w, r, "/signin")
	return nil
}

// safeNext keeps a post-sign-in destination only when it is a path of the
// dashboard: "/endpoints?x=1", never "//evil.example" or a full URL. A
// control character or a backslash anywhere refuses it too: a browser
// drops tabs and newlines from a Location and reads "\\" as "/", so
// "/\t/evil.example" would leave the site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return "/"
	}
	return next
}
