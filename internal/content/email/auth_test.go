package email

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail/smtp"
)

func TestPlainOrLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offered []string
		tls     bool
		host    string
		want    string
		wantErr string
	}{
		{offered: []string{"LOGIN", "PLAIN"}, tls: true, host: "smtp.example.com", want: "PLAIN"},
		{offered: []string{"CRAM-MD5", "LOGIN"}, tls: true, host: "smtp.example.com", want: "LOGIN"},
		{offered: []string{"PLAIN"}, host: "127.0.0.1", want: "PLAIN"},
		{offered: []string{"PLAIN"}, host: "smtp.example.com", wantErr: "unencrypted"},
		{offered: []string{"LOGIN"}, host: "smtp.example.com", wantErr: "unencrypted"},
		{offered: []string{"XOAUTH2"}, tls: true, host: "smtp.example.com", wantErr: "neither AUTH PLAIN nor LOGIN"},
	}
	for _, tt := range tests {
		a := &plainOrLogin{username: "u", password: "p", host: tt.host}
		mech, _, err := a.Start(&smtp.ServerInfo{Name: tt.host, TLS: tt.tls, Auth: tt.offered})
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, "%+v", tt)
			continue
		}
		require.NoError(t, err, "%+v", tt)
		require.Equal(t, tt.want, mech, "%+v", tt)
	}
}
