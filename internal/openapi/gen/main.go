// Command gen writes the OpenAPI document of the API (internal/openapi)
// to a file; go generate runs it in docs/.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hookline/hookline/internal/openapi"
)

func main() {
	out := flag.String("o", "openapi.json", "file to write")
	wireDir := flag.String("wire", "../wire", "source directory of the wire package")
	flag.Parse()
	doc, err := openapi.Generate(*wireDir)
	if err == nil {
		err = os.WriteFile(*out, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
