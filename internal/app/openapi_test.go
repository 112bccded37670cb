package app_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/docs"
)

// TestOpenAPIServedWithoutKey: GET /v1/openapi.json needs no API key and
// answers the document embedded in the binary.
func TestOpenAPIServedWithoutKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.url + "/v1/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", got)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, string(docs.OpenAPI), string(got))
}
