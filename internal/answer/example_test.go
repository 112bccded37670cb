package answer_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hookline/hookline/internal/answer"
)

func ExampleError() {
	w := httptest.NewRecorder()
	answer.Error(w, http.StatusNotFound, "not_found", "no source named shop")
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 404 application/json
	// {"error":{"code":"not_found","message":"no source named shop"}}
}

func ExampleJSON() {
	w := httptest.NewRecorder()
	answer.JSON(w, http.StatusOK, map[string]int{"unread": 2})
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 200 application/json
	// {"unread":2}
}
