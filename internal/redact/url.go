package redact

import "net/url"

// SplitURL separates the credential of a destination URL from what may be
// shown: the password of its user information, or the whole user
// information when it has no password (a token, as in nats://TOKEN@host).
// shown is raw with that credential replaced by Marker; secret is the
// credential, empty when raw has none or does not parse (then shown is
// raw). JoinURL puts them back together.
func SplitURL(raw string) (shown, secret string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, ""
	}
	if pw, ok := u.User.Password(); ok {
		if pw == "" {
			return raw, ""
		}
		u.User = url.UserPassword(u.User.Username(), Marker)
		return u.String(), pw
	}
	token := u.User.Username()
	if token == "" {
		return raw, ""
	}
	u.User = url.User(Marker)
	return u.String(), token
}

// JoinURL is the URL SplitURL split into shown and secret: shown with
// Marker replaced by secret. With no secret, or a shown URL that carries
// no Marker where SplitURL puts it, it returns shown.
func JoinURL(shown, secret string) string {
	if secret == "" {
		return shown
	}
	u, err := url.Parse(shown)
	if err != nil || u.User == nil {
		return shown
	}
	if pw, ok := u.User.Password(); ok {
		if pw != Marker {
			return shown
		}
		u.User = url.UserPassword(u.User.Username(), secret)
		return u.String()
	}
	if u.User.Username() != Marker {
		return shown
	}
	u.User = url.User(secret)
	return u.String()
}
