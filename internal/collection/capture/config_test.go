package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := Config{DSN: "postgres://u@db/app", Source: "shopdb", Tables: []string{"orders", "sales.line_items"}}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
	}{
		{"valid", func(*Config) {}, ""},
		{"source with dash", func(c *Config) { c.Source = "shop-db_2" }, ""},
		{"mixed-case table", func(c *Config) { c.Tables = []string{"Orders"} }, ""},
		{"no dsn", func(c *Config) { c.DSN = "" }, "dsn"},
		{"bad dsn", func(c *Config) { c.DSN = "postgres://u:secret@db:notaport/app" }, "dsn"},
		{"no source", func(c *Config) { c.Source = "" }, "source"},
		{"upper source", func(c *Config) { c.Source = "ShopDB" }, "source"},
		{"source with dot", func(c *Config) { c.Source = "shop.db" }, "source"},
		{"long source", func(c *Config) { c.Source = strings.Repeat("s", 41) }, "source"},
		{"no tables", func(c *Config) { c.Tables = nil }, "tables"},
		{"empty table", func(c *Config) { c.Tables = []string{""} }, "tables[0]"},
		{"three parts", func(c *Config) { c.Tables = []string{"orders", "a.b.c"} }, "tables[1]"},
		{"empty schema part", func(c *Config) { c.Tables = []string{".orders"} }, "tables[0]"},
		{"quote in table", func(c *Config) { c.Tables = []string{`orders"; drop table x; --`} }, "tables[0]"},
		{"duplicate", func(c *Config) { c.Tables = []string{"orders", "public.orders"} }, "tables[1]"},
		{"the outbox", func(c *Config) { c.Tables = []string{"hookline.capture_outbox"} }, "tables[0]"},
		{"the owners", func(c *Config) { c.Tables = []string{"hookline.capture_owners"} }, "tables[0]"},
		{"bad schema", func(c *Config) { c.Schema = "Hook-line" }, "schema"},
		{"long schema", func(c *Config) { c.Schema = strings.Repeat("h", 49) }, "schema"},
		{"negative batch", func(c *Config) { c.Batch = -1 }, "batch"},
		{"huge batch", func(c *Config) { c.Batch = MaxBatch + 1 }, "batch"},
		{"negative poll", func(c *Config) { c.PollInterval = -time.Second }, "poll_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			c.Tables = append([]string(nil), valid.Tables...)
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var cerr *ConfigError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, tt.field, cerr.Field, "error: %v", err)
			require.NotContains(t, err.Error(), "secret", "error leaks the DSN password")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := Config{DSN: "postgres://u@db/app", Source: "shopdb", Tables: []string{"orders"}}.compile()
	require.NoError(t, err)
	require.Equal(t, DefaultSchema, c.schema)
	require.Equal(t, DefaultBatch, c.batch)
	require.Equal(t, DefaultPollInterval, c.poll)
	require.Equal(t, []table{{"public", "orders"}}, c.tables)
	require.Equal(t, "hookline_shopdb", c.triggerName())
	require.Equal(t, "hookline_capture", c.channel())
	require.Equal(t, `"hookline"."capture_outbox"`, c.outbox())
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{10, 15 * time.Second, 30 * time.Second},
		{1000, 15 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		lo, hi := backoff(tt.attempt, 0), backoff(tt.attempt, 0.999999)
		require.Equal(t, tt.min, lo, "attempt %d lowest", tt.attempt)
		require.LessOrEqual(t, hi, tt.max, "attempt %d highest", tt.attempt)
		require.Greater(t, hi, tt.max*99/100, "attempt %d highest", tt.attempt)
	}
}

func TestQuoteLiteral(t *testing.T) {
	t.Parallel()
	require.Equal(t, `'shop'`, quoteLiteral("shop"))
	require.Equal(t, `'it''s'`, quoteLiteral("it's"))
	require.Equal(t, `''`, quoteLiteral(""))
}
