package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func recipient(tenantID, id string) store.Recipient {
	return store.Recipient{TenantID: tenantID, ID: id, Email: id + "@example.com", Name: "Ada " + id, Locale: "en",
		TimeZone: "Europe/Paris", Prefs: []byte(`{"email":{"marketing":false}}`), Data: []byte(`{"plan":"pro"}`),
		CreatedAt: base, UpdatedAt: base}
}

func testRecipients(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	r := recipient(a, "u1")
	write(t, s.UpsertRecipient, r)
	got, err := s.GetRecipient(ctx, a, "u1")
	require.NoError(t, err)
	require.Equal(t, r, got)

	// Upserting again replaces everything but the creation time.
	repl := store.Recipient{TenantID: a, ID: "u1", Email: "new@example.com", Name: "Ada L.", Locale: "fr", TimeZone: "UTC",
		Data: []byte(`{"plan":"free"}`), CreatedAt: base.Add(time.Hour), UpdatedAt: base.Add(time.Minute)}
	write(t, s.UpsertRecipient, repl)
	got, err = s.GetRecipient(ctx, a, "u1")
	require.NoError(t, err)
	want := repl
	want.CreatedAt = base
	require.Equal(t, want, got, "replaced; nil prefs read back nil; created_at kept")

	require.ErrorIs(t, errOf(s.GetRecipient(ctx, a, "missing")), store.ErrNotFound)
	require.NoError(t, s.DeleteRecipient(ctx, a, "u1"))
	require.ErrorIs(t, errOf(s.GetRecipient(ctx, a, "u1")), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteRecipient(ctx, a, "u1"), store.ErrNotFound)

	// The id can come back as a new recipient.
	write(t, s.UpsertRecipient, r)
	read(t, r)(s.GetRecipient(ctx, a, "u1"))
}

func testRecipientPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	// Tenants choose the ids: pages follow byte order, as in Go.
	ids := []string{"u10", "U2", "u01", "a-b", "a_b", "u1", "Z"}
	for _, id := range ids {
		write(t, s.UpsertRecipient, recipient(a, id))
	}
	seen := pageIDs(t, func(p store.Page) ([]store.Recipient, error) {
		return s.ListRecipients(ctx, a, p)
	}, func(r store.Recipient) string { return r.ID })
	require.Equal(t, []string{"U2", "Z", "a-b", "a_b", "u01", "u1", "u10"}, seen, "by id ascending")
	list, err := s.ListRecipients(ctx, a, store.Page{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []store.Recipient{recipient(a, "U2")}, list, "the whole recipient")

	for i := range 101 {
		write(t, s.UpsertRecipient, recipient(a, fmt.Sprintf("x%03d", i)))
	}
	list, err = s.ListRecipients(ctx, a, store.Page{})
	require.NoError(t, err)
	require.Len(t, list, 100, "default page size")
	list, err = s.ListRecipients(ctx, a, store.Page{Cursor: "x050"})
	require.NoError(t, err)
	require.Len(t, list, 50)
	require.Equal(t, "x051", list[0].ID)
}

func testRecipientIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	ra := recipient(a, "u1")
	write(t, s.UpsertRecipient, ra)
	write(t, s.UpsertRecipient, recipient(a, "only_a"))
	rb := recipient(b, "u1")
	rb.Email = "b@example.com"
	write(t, s.UpsertRecipient, rb)

	read(t, ra, "ids are per tenant")(s.GetRecipient(ctx, a, "u1"))
	read(t, rb)(s.GetRecipient(ctx, b, "u1"))
	require.ErrorIs(t, errOf(s.GetRecipient(ctx, b, "only_a")), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteRecipient(ctx, b, "only_a"), store.ErrNotFound)
	read(t, []store.Recipient{rb})(s.ListRecipients(ctx, b, store.Page{}))
	require.NoError(t, s.DeleteRecipient(ctx, b, "u1"))
	require.NoError(t, errOf(s.GetRecipient(ctx, a, "u1")), "another tenant's delete leaves it alone")
}

func templates(s store.Store) versioned[store.Template] {
	return versioned[store.Template]{func(tenantID, name string, version int) store.Template {
		return store.Template{TenantID: tenantID, Name: name, Version: version, CreatedAt: base.Add(time.Duration(version) * time.Minute),
			Spec: fmt.Appendf(nil, `{"subject":"v%d","text":"hi {{.name}}"}`, version)}
	}, s.CreateTemplate, s.GetTemplate, s.ListTemplates}
}

func testTemplates(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	_, _, v10, reset := templates(s).check(t, a, "welcome", "reset")

	// Names and versions are per tenant.
	wb := templates(s).add(t, b, "welcome", 1)
	read(t, wb)(s.GetTemplate(ctx, b, "welcome", 0))
	require.ErrorIs(t, errOf(s.GetTemplate(ctx, b, "welcome", 2)), store.ErrNotFound)
	read(t, []store.Template{wb})(s.ListTemplates(ctx, b))
	require.ErrorIs(t, s.DeleteTemplate(ctx, b, "reset"), store.ErrNotFound)
	require.NoError(t, s.DeleteTemplate(ctx, b, "welcome"))
	read(t, v10, "another tenant's delete leaves it alone")(s.GetTemplate(ctx, a, "welcome", 0))

	require.NoError(t, s.DeleteTemplate(ctx, a, "welcome"))
	for _, v := range []int{0, 1, 2, 10} {
		require.ErrorIs(t, errOf(s.GetTemplate(ctx, a, "welcome", v)), store.ErrNotFound, "every version goes: %d", v)
	}
	require.ErrorIs(t, s.DeleteTemplate(ctx, a, "welcome"), store.ErrNotFound)
	read(t, []store.Template{reset})(s.ListTemplates(ctx, a))
	again := templates(s).add(t, a, "welcome", 1)
	read(t, again, "the name can start again")(s.GetTemplate(ctx, a, "welcome", 0))
}

func testNotifyRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	r := store.NotifyRule{TenantID: a, Name: "welcome", Spec: []byte(`{"on":"user.created","to":"$.user"}`), Enabled: true,
		CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateNotifyRule(ctx, r))
	require.ErrorIs(t, s.CreateNotifyRule(ctx, r), store.ErrConflict)
	got, err := s.GetNotifyRule(ctx, a, "welcome")
	require.NoError(t, err)
	require.Equal(t, r, got)
	require.ErrorIs(t, errOf(s.GetNotifyRule(ctx, a, "missing")), store.ErrNotFound)

	billing := store.NotifyRule{TenantID: a, Name: "billing", Spec: []byte(`{"on":"invoice.*"}`), CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateNotifyRule(ctx, billing))
	read(t, []store.NotifyRule{billing, r}, "by name")(s.ListNotifyRules(ctx, a))

	upd := r
	upd.Spec, upd.Enabled, upd.UpdatedAt = []byte(`{"on":"user.*"}`), false, base.Add(time.Minute)
	upd.CreatedAt = base.Add(time.Hour) // fixed at creation
	require.NoError(t, s.UpdateNotifyRule(ctx, upd))
	got, err = s.GetNotifyRule(ctx, a, "welcome")
	require.NoError(t, err)
	want := upd
	want.CreatedAt = base
	require.Equal(t, want, got)
	require.ErrorIs(t, s.UpdateNotifyRule(ctx, store.NotifyRule{TenantID: a, Name: "missing", Spec: []byte(`{}`)}), store.ErrNotFound)

	// Names are per tenant.
	rb := r
	rb.TenantID = b
	require.NoError(t, s.CreateNotifyRule(ctx, rb))
	read(t, []store.NotifyRule{rb})(s.ListNotifyRules(ctx, b))
	require.ErrorIs(t, errOf(s.GetNotifyRule(ctx, b, "billing")), store.ErrNotFound)
	stolen := billing
	stolen.TenantID, stolen.Enabled = b, true
	require.ErrorIs(t, s.UpdateNotifyRule(ctx, stolen), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteNotifyRule(ctx, b, "billing"), store.ErrNotFound)
	read(t, billing)(s.GetNotifyRule(ctx, a, "billing"))

	require.NoError(t, s.DeleteNotifyRule(ctx, a, "welcome"))
	require.ErrorIs(t, errOf(s.GetNotifyRule(ctx, a, "welcome")), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteNotifyRule(ctx, a, "welcome"), store.ErrNotFound)
	read(t, rb, "another tenant's delete leaves it alone")(s.GetNotifyRule(ctx, b, "welcome"))
}

// message is a scheduled email of rule "welcome" to recipient u1, not yet
// saved.
func message(tenantID, id string) store.Message {
	return store.Message{ID: id, TenantID: tenantID, Rule: "welcome", RecipientID: "u1", Channel: "email", Category: "account",
		Template: "welcome", Locale: "en", Subject: "Hi", Text: "hello", HTML: "<p>hello</p>", Status: store.MessageScheduled,
		EventID: "evt_1", SendAt: base, CreatedAt: base, UpdatedAt: base}
}

func saveMessages(t *testing.T, s store.Store, ms ...store.Message) {
	t.Helper()
	require.NoError(t, s.SaveMessages(context.Background(), ms, nil, nil))
}

func testSaveMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	ne := newEvent(a, "user.created", "", base)
	accept(t, s, ne)
	task := func(id, messageID string) store.Task {
		return store.Task{ID: id, TenantID: a, EventID: ne.Event.ID, EventType: ne.Event.Type, Kind: "message",
			DestinationID: messageID, Status: store.StatusPending, NextAt: base, CreatedAt: base, UpdatedAt: base}
	}
	link := func(token, messageID, url string, open bool) store.Link {
		return store.Link{Token: token, TenantID: a, MessageID: messageID, URL: url, Open: open, CreatedAt: base}
	}

	m1 := message(a, "msg_1")
	m1.EventID, m1.PageToken, m1.PageUntil = ne.Event.ID, "pg_1", base.Add(24*time.Hour)
	m2 := message(a, "msg_2")
	m2.Channel, m2.Status, m2.SentAt, m2.Attempts = "inbox", store.MessageSent, base.Add(time.Second), 1
	l1 := link("lnk_1", "msg_1", "https://example.com/a?b=1", false)
	l2 := link("lnk_open", "msg_1", "", true)
	require.NoError(t, s.SaveMessages(ctx, []store.Message{m1, m2}, []store.Link{l1, l2}, []store.Task{task("dlv_1", "msg_1")}))

	for _, m := range []store.Message{m1, m2} {
		read(t, m)(s.GetMessage(ctx, a, m.ID))
	}
	for _, l := range []store.Link{l1, l2} {
		read(t, l)(s.GetLink(ctx, l.Token))
	}
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.Equal(t, "dlv_1", claimed[0].ID)
	require.Equal(t, "msg_1", claimed[0].DestinationID)
	require.NotNil(t, claimed[0].Event)
	require.Equal(t, ne.Event.ID, claimed[0].Event.ID)
	require.ErrorIs(t, errOf(s.GetMessage(ctx, a, "missing")), store.ErrNotFound)
	require.NoError(t, s.SaveMessages(ctx, nil, nil, nil), "nothing to save")

	// A save with a message id, page token or link token that exists
	// fails whole: nothing of it is written.
	m3 := message(a, "msg_3")
	l3 := link("lnk_3", "msg_3", "https://example.com/3", false)
	requireNothing := func(msg string) {
		t.Helper()
		require.ErrorIs(t, errOf(s.GetMessage(ctx, a, "msg_3")), store.ErrNotFound, msg)
		require.ErrorIs(t, errOf(s.GetLink(ctx, "lnk_3")), store.ErrNotFound, msg)
		require.ErrorIs(t, errOf(s.GetTask(ctx, a, "dlv_3")), store.ErrNotFound, msg)
	}
	err = s.SaveMessages(ctx, []store.Message{m3, m1}, []store.Link{l3}, []store.Task{task("dlv_3", "msg_3")})
	require.ErrorIs(t, err, store.ErrConflict)
	requireNothing("message id exists")
	samePage := message(a, "msg_4")
	samePage.PageToken = "pg_1"
	err = s.SaveMessages(ctx, []store.Message{m3, samePage}, []store.Link{l3}, []store.Task{task("dlv_3", "msg_3")})
	require.ErrorIs(t, err, store.ErrConflict)
	requireNothing("page token exists")
	err = s.SaveMessages(ctx, []store.Message{m3}, []store.Link{l3, link("lnk_1", "msg_3", "https://x", false)},
		[]store.Task{task("dlv_3", "msg_3")})
	require.ErrorIs(t, err, store.ErrConflict)
	requireNothing("link token exists")
	// A task that cannot be written (its event does not exist) fails the
	// whole save too.
	orphan := task("dlv_3", "msg_3")
	orphan.EventID = "evt_missing"
	require.Error(t, s.SaveMessages(ctx, []store.Message{m3}, []store.Link{l3}, []store.Task{orphan}))
	requireNothing("task fails")

	// Message ids are global.
	b := tenant(t, s, "b")
	require.ErrorIs(t, s.SaveMessages(ctx, []store.Message{message(b, "msg_1")}, nil, nil), store.ErrConflict)
	read(t, m1)(s.GetMessage(ctx, a, "msg_1"))
}

func testUpdateMessage(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	m := message(a, "msg_1")
	m.DigestKey = "u1/account/1"
	saveMessages(t, s, m)
	other := message(a, "msg_2")
	other.PageToken = "pg_taken"
	saveMessages(t, s, other)

	upd := m
	upd.Status, upd.Subject, upd.Text, upd.HTML = store.MessageSent, "Hello", "hello there", "<p>hello there</p>"
	upd.SentAt, upd.Attempts, upd.Error = base.Add(time.Minute), 2, "first try: 451"
	upd.Read, upd.Archived = true, true
	upd.PageToken, upd.PageUntil = "pg_1", base.Add(48*time.Hour)
	upd.DigestKey, upd.SendAt, upd.UpdatedAt = "", base.Add(30*time.Second), base.Add(time.Minute)
	require.NoError(t, s.UpdateMessage(ctx, upd))
	read(t, upd)(s.GetMessage(ctx, a, "msg_1"))

	// Identity, origin and creation are fixed.
	fixed := upd
	fixed.Rule, fixed.RecipientID, fixed.Channel, fixed.Category = "other", "u9", "inbox", "billing"
	fixed.Template, fixed.Locale, fixed.EventID, fixed.CreatedAt = "other", "de", "evt_other", base.Add(time.Hour)
	require.NoError(t, s.UpdateMessage(ctx, fixed))
	read(t, upd)(s.GetMessage(ctx, a, "msg_1"))

	// Zero times read back zero.
	cleared := upd
	cleared.Status, cleared.SentAt, cleared.PageToken, cleared.PageUntil, cleared.SendAt = store.MessageScheduled,
		time.Time{}, "", time.Time{}, time.Time{}
	require.NoError(t, s.UpdateMessage(ctx, cleared))
	read(t, cleared)(s.GetMessage(ctx, a, "msg_1"))

	taken := cleared
	taken.PageToken = "pg_taken"
	require.ErrorIs(t, s.UpdateMessage(ctx, taken), store.ErrConflict, "page tokens are unique")
	read(t, cleared)(s.GetMessage(ctx, a, "msg_1"))
	require.ErrorIs(t, s.UpdateMessage(ctx, message(a, "missing")), store.ErrNotFound)
}

// seedMessages saves msg_00…msg_07 of tenantID (oldest first) over two
// recipients and two channels, and returns them.
func seedMessages(t *testing.T, s store.Store, tenantID string) []store.Message {
	t.Helper()
	type spec struct {
		recipient, channel, status string
		archived, read             bool
	}
	specs := []spec{
		{"u1", "email", store.MessageSent, false, false},
		{"u1", "inbox", store.MessageSent, false, false},
		{"u2", "inbox", store.MessageSent, false, false},
		{"u1", "inbox", store.MessageSent, true, false},
		{"u1", "email", store.MessageFailed, false, false},
		{"u1", "inbox", store.MessageScheduled, false, false},
		{"u2", "email", store.MessageSent, true, false}, // archived means nothing outside the inbox
		{"u1", "inbox", store.MessageSent, false, true},
	}
	var all []store.Message
	for i, sp := range specs {
		m := message(tenantID, fmt.Sprintf("msg_%02d", i))
		m.RecipientID, m.Channel, m.Status, m.Archived, m.Read = sp.recipient, sp.channel, sp.status, sp.archived, sp.read
		m.CreatedAt = base.Add(time.Duration(i) * time.Second)
		all = append(all, m)
	}
	require.NoError(t, s.SaveMessages(context.Background(), all, nil, nil))
	return all
}

func messageIDs(ms []store.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func testListMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	all := seedMessages(t, s, a)

	seen := pageIDs(t, func(p store.Page) ([]store.Message, error) {
		return s.ListMessages(ctx, a, store.MessageQuery{Page: p})
	}, func(m store.Message) string { return m.ID })
	require.Equal(t, []string{"msg_07", "msg_06", "msg_05", "msg_04", "msg_03", "msg_02", "msg_01", "msg_00"}, seen, "newest first")
	list, err := s.ListMessages(ctx, a, store.MessageQuery{Page: store.Page{Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []store.Message{all[7]}, list, "the whole message")

	for _, tc := range []struct {
		name string
		q    store.MessageQuery
		want []string
	}{
		{"recipient", store.MessageQuery{RecipientID: "u1"}, []string{"msg_07", "msg_05", "msg_04", "msg_03", "msg_01", "msg_00"}},
		{"channel", store.MessageQuery{Channel: "email"}, []string{"msg_06", "msg_04", "msg_00"}},
		{"archived outside the inbox", store.MessageQuery{Channel: "email", Archived: true}, []string{"msg_06", "msg_04", "msg_00"}},
		{"status", store.MessageQuery{Status: store.MessageSent}, []string{"msg_07", "msg_06", "msg_03", "msg_02", "msg_01", "msg_00"}},
		{"inbox", store.MessageQuery{RecipientID: "u1", Channel: "inbox"}, []string{"msg_07", "msg_05", "msg_01"}},
		{"inbox archived", store.MessageQuery{RecipientID: "u1", Channel: "inbox", Archived: true}, []string{"msg_03"}},
		{"every inbox", store.MessageQuery{Channel: "inbox"}, []string{"msg_07", "msg_05", "msg_02", "msg_01"}},
		{"inbox and status", store.MessageQuery{RecipientID: "u1", Channel: "inbox", Status: store.MessageSent},
			[]string{"msg_07", "msg_01"}},
		{"inbox page", store.MessageQuery{RecipientID: "u1", Channel: "inbox", Page: store.Page{Limit: 1, Cursor: "msg_07"}},
			[]string{"msg_05"}},
		{"no match", store.MessageQuery{RecipientID: "missing"}, []string{}},
	} {
		list, err := s.ListMessages(ctx, a, tc.q)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, messageIDs(list), tc.name)
	}
}

func testDigestMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	const key = "u1/account/2026-01-02T04:00:00Z"
	in := func(id, digestKey string) store.Message {
		m := message(a, id)
		m.Status, m.DigestKey = store.MessageDigest, digestKey
		return m
	}
	m1, m2, m3 := in("msg_1", key), in("msg_2", key), in("msg_3", key)
	saveMessages(t, s, m3, in("msg_0", "u1/account/other"), m1, message(a, "msg_4"))
	saveMessages(t, s, m2)

	list, err := s.DigestMessages(ctx, a, key)
	require.NoError(t, err)
	require.Equal(t, []store.Message{m1, m2, m3}, list, "oldest first")
	list, err = s.DigestMessages(ctx, a, "")
	require.NoError(t, err)
	require.Empty(t, list, "messages outside digests are no digest")
	list, err = s.DigestMessages(ctx, a, "missing")
	require.NoError(t, err)
	require.Empty(t, list)

	// Sent on its own: it leaves the digest.
	m2.Status, m2.DigestKey = store.MessageSent, ""
	require.NoError(t, s.UpdateMessage(ctx, m2))
	list, err = s.DigestMessages(ctx, a, key)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_1", "msg_3"}, messageIDs(list))
}

func testCountUnread(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	all := seedMessages(t, s, a)
	count := func(recipientID string) int {
		t.Helper()
		n, err := s.CountUnread(ctx, a, recipientID)
		require.NoError(t, err)
		return n
	}
	// u1: msg_01 only (msg_03 archived, msg_05 not sent, msg_07 read,
	// the others email).
	require.Equal(t, 1, count("u1"))
	require.Equal(t, 1, count("u2"))
	require.Zero(t, count("missing"))

	more := message(a, "msg_08")
	more.Channel, more.Status = "inbox", store.MessageSent
	saveMessages(t, s, more)
	require.Equal(t, 2, count("u1"))
	read := all[1]
	read.Read = true
	require.NoError(t, s.UpdateMessage(ctx, read))
	require.Equal(t, 1, count("u1"))
	more.Archived = true
	require.NoError(t, s.UpdateMessage(ctx, more))
	require.Zero(t, count("u1"))
}

func testPagesAndLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	pa := message(a, "msg_a")
	pa.Channel, pa.PageToken, pa.PageUntil = "page", "pg_a", base.Add(time.Hour)
	pb := message(b, "msg_b")
	pb.Channel, pb.PageToken = "page", "pg_b"
	require.NoError(t, s.SaveMessages(ctx, []store.Message{pa, message(a, "msg_plain")},
		[]store.Link{{Token: "lnk_a", TenantID: a, MessageID: "msg_a", URL: "https://a.example", CreatedAt: base}}, nil))
	lb := store.Link{Token: "lnk_b", TenantID: b, MessageID: "msg_b", URL: "https://b.example/x?y=z", CreatedAt: base}
	require.NoError(t, s.SaveMessages(ctx, []store.Message{pb}, []store.Link{lb}, nil))

	// Tokens are unguessable: they are looked up across tenants.
	read(t, pa)(s.MessageByPage(ctx, "pg_a"))
	read(t, pb)(s.MessageByPage(ctx, "pg_b"))
	require.ErrorIs(t, errOf(s.MessageByPage(ctx, "pg_missing")), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.MessageByPage(ctx, "")), store.ErrNotFound, "messages without a page have no page")

	link, err := s.GetLink(ctx, "lnk_b")
	require.NoError(t, err)
	require.Equal(t, lb, link)
	link, err = s.GetLink(ctx, "lnk_a")
	require.NoError(t, err)
	require.Equal(t, a, link.TenantID)
	require.Equal(t, "msg_a", link.MessageID)
	require.ErrorIs(t, errOf(s.GetLink(ctx, "lnk_missing")), store.ErrNotFound)
}

func testMessageIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	all := seedMessages(t, s, a)
	digest := message(a, "msg_digest")
	digest.DigestKey = "u1/account/1"
	saveMessages(t, s, digest)

	require.ErrorIs(t, errOf(s.GetMessage(ctx, b, "msg_01")), store.ErrNotFound)
	for _, q := range []store.MessageQuery{{}, {RecipientID: "u1"}, {RecipientID: "u1", Channel: "inbox"}} {
		list, err := s.ListMessages(ctx, b, q)
		require.NoError(t, err)
		require.Empty(t, list)
	}
	list, err := s.DigestMessages(ctx, b, "u1/account/1")
	require.NoError(t, err)
	require.Empty(t, list)
	n, err := s.CountUnread(ctx, b, "u1")
	require.NoError(t, err)
	require.Zero(t, n)

	stolen := all[1]
	stolen.TenantID, stolen.Read, stolen.Status = b, true, store.MessageFailed
	require.ErrorIs(t, s.UpdateMessage(ctx, stolen), store.ErrNotFound, "another tenant's message cannot be updated")
	read(t, all[1])(s.GetMessage(ctx, a, "msg_01"))
}
