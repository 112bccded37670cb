package render

import (
	"strconv"
	"strings"
)

var itoa = strconv.Itoa

// locale is how one language writes numbers, money, dates and plurals.
// The table is small on purpose: a handful of languages, written by hand
// from CLDR rather than pulling in its full data.
type locale struct {
	group   string // thousands separator
	decimal string
	// minGroup is CLDR's minimum grouping digits: with 2 (Spanish) a
	// four-digit integer part is not grouped (1234 but 12.345).
	minGroup int
	// symbolAfter puts the currency symbol after the amount (1 234,50 €).
	symbolAfter bool
	// symbolSpace separates a symbol from the amount; a currency code
	// is always separated.
	symbolSpace bool
	// oneUpToTwo is the plural rule of French and Portuguese: 0 and 1
	// (and anything below 2) take the singular.
	oneUpToTwo bool

	shortDate, timeOfDay string // Go layouts
	dateTimeSep          string
	months               [12]string
	weekdays             [7]string
	// long formats a date with month and weekday names (table-driven
	// because Go layouts only know English names).
	long func(weekday, day, month string, year int) string
}

const (
	nbsp       = "\u00a0"
	narrowNbsp = "\u202f"
)

var locales = map[string]*locale{
	"en": {
		group: ",", decimal: ".", minGroup: 1,
		shortDate: "Jan 2, 2006", timeOfDay: "3:04 PM", dateTimeSep: ", ",
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		long:     func(w, d, m string, y int) string { return w + ", " + m + " " + d + ", " + itoa(y) },
	},
	"fr": {
		group: narrowNbsp, decimal: ",", minGroup: 1, symbolAfter: true, symbolSpace: true, oneUpToTwo: true,
		shortDate: "02/01/2006", timeOfDay: "15:04", dateTimeSep: " ",
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		weekdays: [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		long:     func(w, d, m string, y int) string { return w + " " + d + " " + m + " " + itoa(y) },
	},
	"de": {
		group: ".", decimal: ",", minGroup: 1, symbolAfter: true, symbolSpace: true,
		shortDate: "02.01.2006", timeOfDay: "15:04", dateTimeSep: ", ",
		months:   [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		weekdays: [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		long:     func(w, d, m string, y int) string { return w + ", " + d + ". " + m + " " + itoa(y) },
	},
	"es": {
		group: ".", decimal: ",", minGroup: 2, symbolAfter: true, symbolSpace: true,
		shortDate: "2/1/2006", timeOfDay: "15:04", dateTimeSep: ", ",
		months:   [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		weekdays: [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
		long:     func(w, d, m string, y int) string { return w + ", " + d + " de " + m + " de " + itoa(y) },
	},
	"it": {
		group: ".", decimal: ",", minGroup: 1, symbolAfter: true, symbolSpace: true,
		shortDate: "02/01/2006", timeOfDay: "15:04", dateTimeSep: ", ",
		months:   [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		weekdays: [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"},
		long:     func(w, d, m string, y int) string { return w + " " + d + " " + m + " " + itoa(y) },
	},
	"nl": {
		group: ".", decimal: ",", minGroup: 1, symbolSpace: true,
		shortDate: "02-01-2006", timeOfDay: "15:04", dateTimeSep: " ",
		months:   [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		weekdays: [7]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		long:     func(w, d, m string, y int) string { return w + " " + d + " " + m + " " + itoa(y) },
	},
	"pt": {
		group: ".", decimal: ",", minGroup: 1, symbolSpace: true, oneUpToTwo: true,
		shortDate: "02/01/2006", timeOfDay: "15:04", dateTimeSep: " ",
		months:   [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		weekdays: [7]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"},
		long:     func(w, d, m string, y int) string { return w + ", " + d + " de " + m + " de " + itoa(y) },
	},
}

// localeFor returns the formatting table of a locale tag by its language
// ("fr-CA" → fr), English for languages not in the table.
func localeFor(tag string) *locale {
	if l, ok := locales[langOf(tag)]; ok {
		return l
	}
	return locales["en"]
}

// langOf is the language subtag of a locale tag, lowercase.
func langOf(tag string) string {
	tag = strings.ToLower(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// currency is how a currency is written: its symbol and its minor units.
type currency struct {
	symbol   string
	decimals int
}

// currencies lists the symbols we write; any other code is written as
// the code with 2 decimals unless minorUnits says otherwise.
var currencies = map[string]currency{
	"USD": {"$", 2},
	"EUR": {"€", 2},
	"GBP": {"£", 2},
	"JPY": {"¥", 0},
}

// minorUnits are ISO 4217 currencies whose minor unit is not 2 digits.
var minorUnits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "PYG": 0, "UGX": 0, "XAF": 0, "XOF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

func currencyOf(code string) currency {
	if c, ok := currencies[code]; ok {
		return c
	}
	d, ok := minorUnits[code]
	if !ok {
		d = 2
	}
	return currency{symbol: code, decimals: d}
}
