package signature

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// The known-answer vector from the Standard Webhooks spec and its libraries.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

type bundle struct {
	key  []byte
	key2 []byte
	ts   time.Time
	body []byte
}

func setup(t *testing.T) bundle {
	t.Helper()
	key, err := DecodeSecret(specSecret)
	require.NoError(t, err)
	key2, err := DecodeSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte("a second, rotated signing key")))
	require.NoError(t, err)
	return bundle{key: key, key2: key2, ts: time.Unix(specTimestamp, 0), body: []byte(specBody)}
}

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)

	require.Equal(t, specSignature, Sign(b.key, specMsgID, b.ts, b.body))

	// The official library agrees with the spec's vector.
	wh, err := standardwebhooks.NewWebhook(specSecret)
	require.NoError(t, err)
	libSig, err := wh.Sign(specMsgID, b.ts, b.body)
	require.NoError(t, err)
	require.Equal(t, specSignature, libSig)

	h := Headers([][]byte{b.key}, specMsgID, b.ts, b.body)
	require.Equal(t, specMsgID, h.Get("webhook-id"))
	require.Equal(t, "1614265330", h.Get("webhook-timestamp"))
	require.Equal(t, specSignature, h.Get("webhook-signature"))
	require.NoError(t, Verify([][]byte{b.key}, h, b.body, b.ts, DefaultTolerance))
	require.Equal(t, http.Header{
		HeaderKeyID: {specMsgID}, HeaderKeyTimestamp: {"1614265330"}, HeaderKeySignature: {specSignature},
	}, h, "the keys are canonical")

	// Appending leaves what dst held, with room or without.
	require.Equal(t, "x "+specSignature, string(AppendSignAll([]byte("x "), [][]byte{b.key}, specMsgID, b.ts, b.body)))
	require.Equal(t, "x "+specSignature, string(AppendSignAll(append(make([]byte, 0, 200), "x "...), [][]byte{b.key}, specMsgID, b.ts, b.body)))
}

func TestDecodeSecret(t *testing.T) {
	t.Parallel()
	testkit.Table(t, DecodeSecret, []testkit.Case[string, []byte]{
		{Name: "prefixed", In: "whsec_aGVsbG8=", Want: []byte("hello")},
		{Name: "bare base64", In: "aGVsbG8=", Want: []byte("hello")},
		{Name: "not base64", In: "whsec_not base64!", Err: "standard base64"},
		{Name: "url alphabet", In: "whsec_-_-_", Err: "standard base64"},
		{Name: "empty key", In: "whsec_", Err: "empty key"},
		{Name: "empty", In: "", Err: "empty key"},
	})
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	s1, err := GenerateSecret()
	require.NoError(t, err)
	s2, err := GenerateSecret()
	require.NoError(t, err)
	require.NotEqual(t, s1, s2)
	require.True(t, strings.HasPrefix(s1, SecretPrefix))
	key, err := DecodeSecret(s1)
	require.NoError(t, err)
	require.Len(t, key, 24)

	// The official library accepts our secrets.
	wh, err := standardwebhooks.NewWebhook(s1)
	require.NoError(t, err)
	now := time.Now()
	sig, err := wh.Sign("msg_1", now, []byte("{}"))
	require.NoError(t, err)
	require.Equal(t, Sign(key, "msg_1", now, []byte("{}")), sig)
}

func TestInteropOurSignTheirVerify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The official library checks the timestamp against the wall clock.
	now := time.Now()
	body := []byte(`{"type":"order.created","data":{"id":"ord_1","total":12.5}}`)
	h := Headers([][]byte{b.key}, "msg_interop", now, body)

	wh, err := standardwebhooks.NewWebhook(specSecret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(body, h))
	require.ErrorIs(t, wh.Verify([]byte(`{"tampered":true}`), h), standardwebhooks.ErrNoMatchingSignature)
}

func TestInteropTheirSignOurVerify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	body := []byte(`{"type":"order.created"}`)
	wh, err := standardwebhooks.NewWebhook(specSecret)
	require.NoError(t, err)
	sig, err := wh.Sign("msg_lib", now, body)
	require.NoError(t, err)

	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, "msg_lib")
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	require.NoError(t, Verify([][]byte{b.key}, h, body, now, DefaultTolerance))
	require.ErrorIs(t, Verify([][]byte{b.key2}, h, body, now, DefaultTolerance), ErrNoMatch)
}

func TestKeysSignAsRawKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keys := []*Key{NewKey(b.key), NewKey(b.key2)}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			// Each Key's MAC state is reused from one message to the next,
			// from several goroutines at once.
			for i := range 50 {
				msgID, ts, body := fmt.Sprintf("msg_%d_%d", g, i), b.ts.Add(time.Duration(i)*time.Second), fmt.Appendf(nil, "%s%d", b.body, i)
				want := SignAll([][]byte{b.key, b.key2}, msgID, ts, body)
				if got := string(AppendSignKeys(nil, keys, msgID, ts, body)); got != want {
					t.Errorf("message %d: %s, want %s", i, got, want)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, "x "+specSignature, string(AppendSignKeys([]byte("x "), keys[:1], specMsgID, b.ts, b.body)))
}

func TestTwoKeysEachVerifiableAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	h := Headers([][]byte{b.key, b.key2}, "msg_rotate", now, b.body)

	sigs := strings.Split(h.Get(HeaderSignature), " ")
	require.Len(t, sigs, 2)
	require.Equal(t, Sign(b.key, "msg_rotate", now, b.body), sigs[0])
	require.Equal(t, Sign(b.key2, "msg_rotate", now, b.body), sigs[1])

	for _, key := range [][]byte{b.key, b.key2} {
		wh, err := standardwebhooks.NewWebhookRaw(key)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(b.body, h))
		require.NoError(t, Verify([][]byte{key}, h, b.body, now, DefaultTolerance))
	}
	other, err := standardwebhooks.NewWebhookRaw([]byte("neither key"))
	require.NoError(t, err)
	require.ErrorIs(t, other.Verify(b.body, h), standardwebhooks.ErrNoMatchingSignature)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keys := [][]byte{b.key}

	// Each case verifies the headers Headers signs, changed by set and del,
	// or the headers of only instead.
	cases := []struct {
		name      string
		keys      [][]byte
		set       map[string]string
		del       string
		only      http.Header
		body      string
		now       time.Time
		tolerance time.Duration
		wantErr   error
	}{
		{name: "valid"},
		{name: "at the tolerance edge in the past", now: b.ts.Add(DefaultTolerance)},
		{name: "at the tolerance edge in the future", now: b.ts.Add(-DefaultTolerance)},
		{name: "too old", now: b.ts.Add(DefaultTolerance + time.Second), wantErr: ErrTimestamp},
		{name: "too new", now: b.ts.Add(-DefaultTolerance - time.Second), wantErr: ErrTimestamp},
		{name: "tolerance disabled", now: b.ts.Add(24 * time.Hour), tolerance: -1},
		{name: "custom tolerance", now: b.ts.Add(2 * time.Second), tolerance: time.Second, wantErr: ErrTimestamp},
		{name: "tampered body", body: `{"test": 2432232315}`, wantErr: ErrNoMatch},
		{name: "wrong key", keys: [][]byte{b.key2}, wantErr: ErrNoMatch},
		{name: "no keys", keys: [][]byte{}, wantErr: ErrNoMatch},
		{name: "second of two keys", keys: [][]byte{b.key2, b.key}},
		{name: "tampered id", set: map[string]string{HeaderID: "msg_other"}, wantErr: ErrNoMatch},
		{name: "tampered timestamp", set: map[string]string{HeaderTimestamp: strconv.Itoa(specTimestamp + 1)}, wantErr: ErrNoMatch},
		{name: "timestamp not a number", set: map[string]string{HeaderTimestamp: "2021-02-25T15:02:10Z"}, wantErr: ErrTimestamp},
		{name: "missing id", del: HeaderID, wantErr: ErrMissingHeaders},
		{name: "missing signature", del: HeaderSignature, wantErr: ErrMissingHeaders},
		{name: "no headers", only: http.Header{}, wantErr: ErrMissingHeaders},
		{name: "other version ignored", set: map[string]string{HeaderSignature: strings.Replace(specSignature, "v1,", "v1a,", 1)}, wantErr: ErrNoMatch},
		{name: "match among garbage", set: map[string]string{
			HeaderSignature: "v1,!!! v2,abc nocomma v1," + base64.StdEncoding.EncodeToString([]byte("x")) + "  " + specSignature}},
		{name: "svix headers", only: http.Header{
			"Svix-Id": {specMsgID}, "Svix-Timestamp": {strconv.Itoa(specTimestamp)}, "Svix-Signature": {specSignature}}},
		{name: "webhook headers win over svix", set: map[string]string{"svix-signature": "v1,bm90IGl0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k := keys
			if c.keys != nil {
				k = c.keys
			}
			body := b.body
			if c.body != "" {
				body = []byte(c.body)
			}
			now := b.ts
			if !c.now.IsZero() {
				now = c.now
			}
			tolerance := DefaultTolerance
			if c.tolerance != 0 {
				tolerance = c.tolerance
			}
			h := c.only
			if h == nil {
				h = Headers(keys, specMsgID, b.ts, b.body)
			}
			for name, v := range c.set {
				h.Set(name, v)
			}
			h.Del(c.del)
			err := Verify(k, h, body, now, tolerance)
			if c.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.wantErr)
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("key"), "msg_1", "1614265330", specSignature, []byte(specBody), int64(specTimestamp))
	f.Add([]byte{}, "", "", "", []byte{}, int64(0))
	f.Add([]byte("k"), "id", "-9223372036854775808", "v1, v1,,, ,v1", []byte("x"), int64(9223372036854775807))
	f.Add([]byte("k"), "id", "99999999999999999999", "v1,=== v1,AAAA", []byte("x"), int64(-1))
	f.Fuzz(func(t *testing.T, key []byte, msgID, ts, sig string, body []byte, nowUnix int64) {
		h := http.Header{}
		h.Set(HeaderID, msgID)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		now := time.Unix(nowUnix, 0)
		_ = Verify([][]byte{key}, h, body, now, DefaultTolerance)
		_ = Verify(nil, h, body, now, 0)

		// Whatever the inputs, what we sign verifies, and nothing else does.
		if msgID == "" {
			return
		}
		signed := Headers([][]byte{key}, msgID, now, body)
		require.NoError(t, Verify([][]byte{key}, signed, body, now, DefaultTolerance))
		err := Verify([][]byte{key}, signed, append(body, '!'), now, DefaultTolerance)
		require.ErrorIs(t, err, ErrNoMatch)
	})
}
