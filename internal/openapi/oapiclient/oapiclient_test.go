package oapiclient_test

import (
	"os"
	"strings"
	"testing"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestGeneratedFromDocument fails when oapiclient.gen.go is not what
// oapi-codegen (go.mod's version, config.yaml) makes of docs/openapi.json:
// run go generate ./internal/openapi/oapiclient.
func TestGeneratedFromDocument(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("config.yaml")
	require.NoError(t, err)
	var cfg struct {
		codegen.Configuration `yaml:",inline"`
		Output                string `yaml:"output"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	cfg.Configuration = cfg.UpdateDefaults()
	require.NoError(t, cfg.Validate())
	spec, err := util.LoadSwaggerWithOverlay("../../../docs/openapi.json", util.LoadSwaggerWithOverlayOpts{Strict: true})
	require.NoError(t, err)
	want, err := codegen.Generate(spec, cfg.Configuration)
	require.NoError(t, err)
	got, err := os.ReadFile(cfg.Output)
	require.NoError(t, err)
	// The header names the generator's version as the build knows it,
	// which a test binary does not.
	body := func(code string) string {
		_, rest, _ := strings.Cut(code, "\npackage ")
		return rest
	}
	if body(want) != body(string(got)) {
		t.Fatal("oapiclient.gen.go is not what oapi-codegen makes of docs/openapi.json: run go generate ./internal/openapi/oapiclient and commit it")
	}
}
