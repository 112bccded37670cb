package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

func TestInTailPrintsReceivedEvents(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	for _, name := range []string{"hooks", "other"} {
		_, err := srv.client.CreateSource(t.Context(), client.SourceCreate{Name: name, Verification: &client.Verification{Kind: "none"}})
		require.NoError(t, err)
	}

	tail := srv.cli().start(t, "in", "tail", "hooks")
	tail.waitFor(t, true, "Tailing events", "the stream opens")
	require.Contains(t, tail.stderr.String(), srv.url+"/in/hooks")

	post := func(source, body string) string {
		resp, err := http.Post(srv.url+"/in/"+source, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		var out struct{ ID string }
		require.NoError(t, json.Unmarshal(raw, &out))
		return out.ID
	}
	post("other", `{"not":"shown"}`)
	id := post("hooks", "{ \"n\": 1,\n  \"s\": \"x\" }")

	tail.waitFor(t, false, id, "the event is printed")
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  `+id+`  hooks\.received  \{"n":1,"s":"x"\}\n$`, tail.stdout.String(),
		"one line, only the tailed source's event")
	tail.stop(t)
}

func TestTailLine(t *testing.T) {
	t.Parallel()
	ev := client.Event{
		ID: "evt_1", Type: "github.push", Source: "gh", CreatedAt: client.TimeOf(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)),
		Data: json.RawMessage(`{"text": "` + strings.Repeat("é", 150) + `"}`),
	}
	var out strings.Builder
	require.NoError(t, tailLine(&out, outputTable, ev))
	line := out.String()
	require.True(t, strings.HasPrefix(line, `2025-01-02T03:04:05Z  evt_1  github.push  {"text":"éé`), line)
	require.True(t, strings.HasSuffix(line, "…\n"), "long data is cut")
	data := strings.TrimSuffix(strings.SplitN(line, "  ", 4)[3], "…\n")
	require.LessOrEqual(t, len(data), maxTailData)
	require.True(t, strings.HasSuffix(data, "é"), "cut on a rune boundary")

	out.Reset()
	require.NoError(t, tailLine(&out, outputJSON, ev))
	require.Equal(t, 1, strings.Count(out.String(), "\n"), "one line per event")
	var back client.Event
	require.NoError(t, json.Unmarshal([]byte(out.String()), &back))
	require.Equal(t, ev.ID, back.ID)
	require.JSONEq(t, string(ev.Data), string(back.Data))

	out.Reset()
	ev.Data = json.RawMessage(`"line\nbreak"`)
	require.NoError(t, tailLine(&out, outputTable, ev))
	require.Equal(t, `2025-01-02T03:04:05Z  evt_1  github.push  "line\nbreak"`+"\n", out.String())
}
