package column_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

func box(t *testing.T) *secretbox.Box {
	b, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	return b
}

// TestOpen: a NULL sealed column reads as the plain one; a sealed one as
// what was sealed; an optional secret left empty is NULL.
func TestOpen(t *testing.T) {
	t.Parallel()
	b := box(t)
	got, err := column.Open(b, nil, []byte(`{"plain":1}`))
	require.NoError(t, err)
	require.Equal(t, `{"plain":1}`, string(got))
	got, err = column.Open(b, b.Seal([]byte("s3cret")), []byte(column.SealedPlaceholder))
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(got))
	_, err = column.Open(b, []byte("not sealed"), nil)
	require.Error(t, err)

	require.Nil(t, column.SealOptional(b, nil))
	require.Nil(t, column.SealOptional(b, []byte{}))
	got, err = column.Open(b, column.SealOptional(b, []byte("k")), nil)
	require.NoError(t, err)
	require.Equal(t, "k", string(got))
}

// TestEndpointRoundTrip encodes an endpoint's columns as the drivers store
// them and decodes them back, for a full endpoint, an empty one, and a row
// whose headers are not sealed yet.
func TestEndpointRoundTrip(t *testing.T) {
	t.Parallel()
	b := box(t)
	full := store.Endpoint{ID: "ep_1", EventTypes: []string{"order.*"}, Headers: map[string]string{"Authorization": "Bearer x"},
		Timeout: 1500 * time.Millisecond, RetrySchedule: []time.Duration{5 * time.Second, time.Minute},
		Secrets: []store.Secret{{Key: "whsec_a"}, {Key: "whsec_b", ExpiresAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}}}
	for name, ep := range map[string]store.Endpoint{"full": full, "empty": {ID: "ep_2"}} {
		types, schedule := column.EndpointJSON(ep)
		c := column.Endpoint{Types: types, Headers: []byte(column.SealedPlaceholder), Schedule: schedule,
			TimeoutMS: ep.Timeout.Milliseconds(), Secrets: column.SealJSON(b, ep.Secrets), SealedHeaders: column.SealHeaders(b, ep.Headers)}
		got := store.Endpoint{ID: ep.ID}
		require.NoError(t, c.Decode(b, &got), name)
		want := ep
		if want.EventTypes == nil {
			want.EventTypes, want.Headers = []string{}, map[string]string{}
		}
		require.Equal(t, want, got, name)
	}

	legacy := column.Endpoint{Types: []byte(`[]`), Headers: []byte(`{"X-A":"1"}`), Schedule: []byte(`[]`),
		Secrets: column.SealJSON(b, []store.Secret{})}
	var got store.Endpoint
	require.NoError(t, legacy.Decode(b, &got))
	require.Equal(t, map[string]string{"X-A": "1"}, got.Headers, "an unsealed row reads its plain headers")
}

// TestAttemptDecode: the duration is in microseconds, an empty detail is
// none, headers are JSON objects and a broken one is an error.
func TestAttemptDecode(t *testing.T) {
	t.Parallel()
	var a store.Attempt
	require.NoError(t, column.Attempt{DurationUS: 1500, RequestHeaders: []byte(`{"A":"1"}`), ResponseHeaders: []byte(`{}`),
		Detail: `{"reason":"x"}`}.Decode(&a))
	require.Equal(t, store.Attempt{Duration: 1500 * time.Microsecond, RequestHeaders: map[string]string{"A": "1"},
		ResponseHeaders: map[string]string{}, Detail: []byte(`{"reason":"x"}`)}, a)

	var none store.Attempt
	require.NoError(t, column.Attempt{RequestHeaders: []byte(`{}`), ResponseHeaders: []byte(`{}`)}.Decode(&none))
	require.Nil(t, none.Detail)
	require.Error(t, column.Attempt{RequestHeaders: []byte(`{`), ResponseHeaders: []byte(`{}`)}.Decode(&none))
}
