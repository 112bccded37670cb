// Package render is the template engine of dynamic content: it compiles
// a template Spec (subject, text and HTML parts, per-locale overrides)
// and renders it for one recipient, in their locale and time zone. It
// does no I/O: the caller passes the variables (event, data, recipient,
// records, vars, message) and stores what comes out.
//
// Subject and text are text/template, HTML is html/template, whose
// contextual escaping stays on. A missing key or a JSON null renders as
// empty text in every part; with Spec.Strict a missing key is an error
// naming it ("map has no entry for key "name"").
//
// # Helpers
//
// The same functions exist in every part; none does I/O.
//
//	date LAYOUT VALUE      a time in the recipient's time zone. VALUE is an
//	                       RFC 3339 string (a date or a date-time without
//	                       zone is read in that zone), a time.Time or unix
//	                       seconds. LAYOUT is "short", "long", "datetime",
//	                       "time" (written the locale's way) or a Go layout
//	                       ("2006-01-02 15:04 MST", English names).
//	number VALUE [DECIMALS] a number with the locale's separators: en
//	                       1,234.5; fr 1 234,5; de 1.234,5. Without DECIMALS
//	                       at most 3, trailing zeros dropped.
//	currency VALUE CODE    an amount: en €1,234.50, fr 1 234,50 €. Symbols
//	                       for USD, EUR, GBP and JPY, the code for others;
//	                       the currency's minor units (JPY 0, KWD 3, else 2).
//	plural N ONE OTHER     ONE or OTHER by the locale's rule (1 is singular;
//	                       in French and Portuguese 0 is too). The word only:
//	                       write {{.n}} {{plural .n "item" "items"}}.
//	default FALLBACK VALUE VALUE unless nil, "" or an empty list or map
//	                       (0 and false are values).
//	truncate N VALUE       at most N runes, the last one "…" when cut.
//	upper, lower, title    case; title capitalises words and leaves the
//	                       other letters (lower first to normalise).
//	json VALUE             VALUE as JSON (in HTML, safe inside <script>).
//
// Numbers, money, date names and plural rules follow the rendered
// locale (Rendered.Locale), so text and numbers agree: a small table for
// en, fr, de, es, it, nl and pt; other languages are written as en.
// Rounding is half away from zero on the decimal a value reads as
// (1.005 → 1.01).
//
// # Limits
//
// Each source is at most 64 KiB and each rendered part at most 256 KiB
// (WithMaxOutput); a render takes at most 1s (WithTimeout). The builtins
// that build strings (print, printf, println, html, js, urlquery) are
// bounded the same way, so a loop cannot grow a variable past memory
// before the output limit. Templates may not call themselves. Any error
// leaves the result empty: never a partial message.
//
// TrackLinks and AddPixel prepare rendered HTML for click and open
// tracking.
package render
