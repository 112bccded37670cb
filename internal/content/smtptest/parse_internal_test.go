package smtptest

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: =?UTF-8?q?h=C3=A9?=\r\n\r\nhello\r\n"))
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parse(data)
		if err != nil {
			return
		}
		if p.From.Address == "" {
			t.Fatalf("parsed without a From address: %+v", p)
		}
	})
}
