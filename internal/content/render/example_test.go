package render_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/content/render"
)

func Example() {
	tmpl, err := render.Compile(render.Spec{
		Name:    "order-shipped",
		Subject: "Order {{.data.order}} shipped",
		Text:    "Hi {{default \"there\" .recipient.name}}, {{.data.count}} {{plural .data.count \"parcel\" \"parcels\"}} ({{currency .data.total \"EUR\"}}) left on {{date \"long\" .data.at}}.",
		Locales: map[string]render.Localized{
			"fr": {
				Subject: "Commande {{.data.order}} expédiée",
				Text:    "Bonjour {{default \"\" .recipient.name}}, {{.data.count}} {{plural .data.count \"colis\" \"colis\"}} ({{currency .data.total \"EUR\"}}) parti le {{date \"long\" .data.at}}.",
			},
		},
	})
	if err != nil {
		panic(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	vars := map[string]any{
		"recipient": map[string]any{"name": "Lou"},
		"data":      map[string]any{"order": "A-1", "count": 2.0, "total": 1234.5, "at": "2026-03-08T23:30:00Z"},
	}
	for _, locale := range []string{"en-GB", "fr-CA"} {
		out, err := tmpl.Render(context.Background(), locale, paris, vars)
		if err != nil {
			panic(err)
		}
		// French separates with no-break spaces; shown here as spaces.
		text := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(out.Text)
		fmt.Printf("%s | %s | %s\n", out.Locale, out.Subject, text)
	}
	// Output:
	// en | Order A-1 shipped | Hi Lou, 2 parcels (€1,234.50) left on Monday, March 9, 2026.
	// fr | Commande A-1 expédiée | Bonjour Lou, 2 colis (1 234,50 €) parti le lundi 9 mars 2026.
}

func ExampleTrackLinks() {
	html := `<p><a href="https://example.com/a?x=1&amp;y=2">Open</a> <a href="mailto:help@example.com">Help</a></p>`
	out, err := render.TrackLinks(html, func(url string) string {
		fmt.Println("tracking", url)
		return "https://t.example/t/abc"
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(render.AddPixel(out, "https://t.example/o/abc.gif"))
	// Output:
	// tracking https://example.com/a?x=1&y=2
	// <p><a href="https://t.example/t/abc">Open</a> <a href="mailto:help@example.com">Help</a></p><img src="https://t.example/o/abc.gif" width="1" height="1" alt="">
}
