package render

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// maxDecimals bounds the decimals a template may ask for.
const maxDecimals = 20

// decimal is a number as a plain decimal string, sign apart.
type decimal struct {
	neg       bool
	int, frac string // digits; frac may be empty
}

// toDecimal rounds v to the given number of decimals, half away from
// zero as people round money, or to at most 3 decimals without trailing
// zeros when decimals < 0. Rounding works on the shortest decimal that
// reads back as the float, so 1.005 rounds to 1.01. ok is false for nil
// (a missing value renders empty).
func toDecimal(v any, decimals int) (d decimal, ok bool, err error) {
	var s string
	switch n := v.(type) {
	case nil:
		return d, false, nil
	case json.Number:
		s, err = plainDecimal(string(n))
	case string:
		s, err = plainDecimal(strings.TrimSpace(n))
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			s = strconv.FormatInt(rv.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			s = strconv.FormatUint(rv.Uint(), 10)
		case reflect.Float32, reflect.Float64:
			s, err = floatDecimal(rv.Float())
		default:
			return d, false, fmt.Errorf("%v (%T) is not a number", v, v)
		}
	}
	if err != nil {
		return d, false, err
	}
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	d.int, d.frac, _ = strings.Cut(s, ".")
	if d.int = strings.TrimLeft(d.int, "0"); d.int == "" {
		d.int = "0"
	}
	if decimals < 0 {
		d = d.round(3)
		d.frac = strings.TrimRight(d.frac, "0")
	} else {
		d = d.round(decimals)
	}
	if strings.Trim(d.int+d.frac, "0") == "" {
		d.neg = false // no "-0.00"
	}
	return d, true, nil
}

// plainDecimal checks a number written as text (JSON numbers, amounts
// sent as strings) and returns it as digits with an optional point,
// keeping every digit it has.
func plainDecimal(s string) (string, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("%q is not a number", s)
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	in, frac, _ := strings.Cut(digits, ".")
	if in != "" && isDigits(in) && isDigits(frac) {
		if strings.HasPrefix(s, "-") {
			return "-" + digits, nil
		}
		return digits, nil
	}
	return floatDecimal(f) // exponents, ".5", "Inf"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func floatDecimal(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%v is not a finite number", f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// round rounds d to n decimals, half away from zero, padding with zeros.
func (d decimal) round(n int) decimal {
	if len(d.frac) <= n {
		d.frac += strings.Repeat("0", n-len(d.frac))
		return d
	}
	up := d.frac[n] >= '5'
	digits := []byte(d.int + d.frac[:n])
	if up {
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i >= 0 {
			digits[i]++
		} else {
			digits = append([]byte{'1'}, digits...)
		}
	}
	k := len(digits) - n
	return decimal{neg: d.neg, int: string(digits[:k]), frac: string(digits[k:])}
}

// format writes d the locale's way, without sign.
func (l *locale) format(d decimal) string {
	var b strings.Builder
	n := len(d.int)
	if n >= 3+l.minGroup {
		for i := 0; i < n; i++ {
			if i > 0 && (n-i)%3 == 0 {
				b.WriteString(l.group)
			}
			b.WriteByte(d.int[i])
		}
	} else {
		b.WriteString(d.int)
	}
	if d.frac != "" {
		b.WriteString(l.decimal)
		b.WriteString(d.frac)
	}
	return b.String()
}

// number formats v with the locale's separators.
func (l *locale) number(v any, decimals int) (string, error) {
	d, ok, err := toDecimal(v, decimals)
	if !ok {
		return "", err
	}
	s := l.format(d)
	if d.neg {
		s = "-" + s
	}
	return s, nil
}

// money formats v as an amount of the currency code.
func (l *locale) money(v any, code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !isCurrencyCode(code) {
		return "", fmt.Errorf("%q is not a currency code", code)
	}
	c := currencyOf(code)
	d, ok, err := toDecimal(v, c.decimals)
	if !ok {
		return "", err
	}
	amount := l.format(d)
	sep := ""
	if l.symbolSpace || c.symbol == code {
		sep = nbsp
	}
	s := c.symbol + sep + amount
	if l.symbolAfter {
		s = amount + sep + c.symbol
	}
	if d.neg {
		s = "-" + s
	}
	return s, nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
