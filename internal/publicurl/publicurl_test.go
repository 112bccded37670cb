package publicurl_test

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/publicurl"
)

func TestBase(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "http://hooks.local:8080/x", nil)
	require.Equal(t, "http://hooks.local:8080", publicurl.Base("", r))
	require.Equal(t, "https://hooks.example.com", publicurl.Base("https://hooks.example.com/", r))
	r.TLS = &tls.ConnectionState{}
	require.Equal(t, "https://hooks.local:8080", publicurl.Base("", r))
}
