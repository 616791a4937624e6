package backend

import (
	_ "embed"
	"encoding/json"
	"hash/fnv"
	"html/template"
	"mime"
	"net/http"
	"strings"
	"time"
)

//go:embed page.html.tmpl
var pageSource string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"hue":  hue,
	"time": func(t time.Time) string { return t.Format(time.RFC3339) },
	"long": func(s string) bool { return len(s) > 120 },
}).Parse(pageSource))

// wantsJSON reports whether the client asked for JSON: ?format=json, or an
// Accept header that names application/json (curl's */* gets HTML, as a
// browser does).
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, rep *Report) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.Status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

func writeHTML(w http.ResponseWriter, rep *Report) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(rep.Status)
	_ = page.Execute(w, rep)
}

// hue gives each instance name its own colour, so that web-1 and web-2
// look different at a glance.
func hue(name string) int {
	switch name {
	case "web-1":
		return 210 // blue
	case "web-2":
		return 25 // orange
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % 360)
}
