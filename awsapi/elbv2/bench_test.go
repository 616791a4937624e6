package elbv2_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkMutatingCall measures one RegisterTargets on the story's model:
// copy, compile and validate the load balancer's config, apply (recorded).
func BenchmarkMutatingCall(b *testing.B) {
	f := newFixture(b, nil)
	r := setUpStory(b, f)
	b.ResetTimer()
	for i := range b.N {
		form := url.Values{"Action": {"RegisterTargets"}, "Version": {"2015-12-01"}, "TargetGroupArn": {r.tg},
			"Targets.member.1.Id": {"127.0.0.1"}, "Targets.member.1.Port": {strconv.Itoa(20000 + i%40000)}}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		f.svc.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
