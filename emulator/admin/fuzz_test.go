package admin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/truststore"
	tt "github.com/albmtls/albmtls/emulator/truststore/truststoretest"
)

const fuzzToken = "fuzz-token"

// adminFuzz holds the files a fresh trust store is loaded from on every
// exec, so that one exec's POST or DELETE cannot change the next one's
// answers (a target whose coverage depends on earlier inputs misleads the
// engine), and a second CRL of the same CA that a POST can add.
type adminFuzz struct {
	spec truststore.Spec
	crl  []byte
}

func newAdminFuzz(tb testing.TB) *adminFuzz {
	root := tt.NewRoot(tb, "admin fuzz root")
	dir := tb.TempDir()
	bundle, crl := filepath.Join(dir, "bundle.pem"), filepath.Join(dir, "root.crl.pem")
	require.NoError(tb, os.WriteFile(bundle, root.PEM(), 0o644))
	require.NoError(tb, os.WriteFile(crl, tt.CRLPEM(root.CRL(tb, []*big.Int{big.NewInt(7)}, nil)), 0o644))
	return &adminFuzz{
		spec: truststore.Spec{Name: "ts", BundleFile: bundle, RevocationFiles: []string{crl}},
		crl:  tt.CRLPEM(root.CRL(tb, []*big.Int{big.NewInt(8), big.NewInt(9)}, nil)),
	}
}

// handler returns a fresh admin handler over a fresh trust store. The
// guard is passed with the token: the request parsing behind it is what
// these targets fuzz, the guard has its own tests.
func (a *adminFuzz) handler(t testing.TB) (http.Handler, *truststore.Live) {
	live, err := truststore.NewLive(a.spec)
	if err != nil {
		t.Fatalf("loading the fuzz trust store: %v", err)
	}
	return Handler(Config{
		TrustStores:  map[string]*truststore.Live{"ts": live},
		Reload:       func() error { return nil },
		Region:       "eu-west-1",
		AccountID:    "123456789012",
		TrustStoreID: func(string) string { return "0123456789abcdef" },
		Access: Access{Token: fuzzToken, Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090},
			ListenHost: "127.0.0.1"},
	}), live
}

// FuzzAdminRequest sends the admin handler a request with an arbitrary
// method, request target and body, parsed by net/http as the admin
// listener would; withCRL prefixes the body with a valid PEM CRL of the
// trust store's CA (kept in the target, so inputs stay small). The answer
// must be a route's (200, or 400 with an error code and message), the
// mux's (301/307/308, 404, 405, a plain 400 for the target "*"), never a 401/403 (the token is sent), a
// 5xx or a panic; JSON answers must parse; and a request answered with an
// error must leave the revocations as they were.
func FuzzAdminRequest(f *testing.F) {
	a := newAdminFuzz(f)
	f.Add("GET", "/trust-stores/ts/revocations?ids=1", false, []byte(nil))
	f.Fuzz(func(t *testing.T, method, target string, withCRL bool, body []byte) {
		if len(method)+len(target)+len(body) > 512 {
			return // long inputs are slow to minimise and find no more
		}
		if withCRL {
			body = append(append([]byte{}, a.crl...), body...)
		}
		raw := method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nAuthorization: Bearer " + fuzzToken +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + string(body))))
		if err != nil {
			return // the listener answers 400 itself; the handler never sees it
		}
		req.RemoteAddr = "127.0.0.1:40000"
		h, live := a.handler(t)
		before := live.DescribeRevocations()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAdminAnswer(t, raw, req, rec)
		after := live.DescribeRevocations()
		if rec.Code != http.StatusOK && !slices.EqualFunc(before, after, sameRevocation) {
			t.Fatalf("%q answered %d but changed the revocations from %v to %v", raw, rec.Code, before, after)
		}
	})
}

func sameRevocation(x, y truststore.RevocationInfo) bool {
	return x.RevocationID == y.RevocationID && x.NumberOfRevokedEntries == y.NumberOfRevokedEntries
}

func checkAdminAnswer(t *testing.T, raw string, req *http.Request, rec *httptest.ResponseRecorder) {
	switch rec.Code {
	case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		t.Fatalf("%q answered %d:\n%s", raw, rec.Code, rec.Body)
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		// ServeMux answers a request target of "*" with a plain 400, as it
		// answers unknown paths with a plain 404.
		if rec.Code == http.StatusBadRequest && req.RequestURI != "*" {
			t.Fatalf("%q answered 400 without a JSON error:\n%s", raw, rec.Body)
		}
		return
	}
	var v struct {
		Error *struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%q answered JSON that does not parse (%v):\n%s", raw, err, rec.Body)
	}
	if rec.Code == http.StatusBadRequest && (v.Error == nil || v.Error.Code == "" || v.Error.Message == "") {
		t.Fatalf("%q answered 400 without an error code and message:\n%s", raw, rec.Body)
	}
}

// FuzzParseIDs: parseIDs accepts only positive decimal IDs, and what it
// accepts reads back the same when written as 1,2,3.
func FuzzParseIDs(f *testing.F) {
	for _, s := range []string{"1", "1,2", " 3 , 4", "0", "-1", "1,,2", "9223372036854775808", "+5", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseIDs(s)
		if err != nil {
			if ids != nil {
				t.Fatalf("parseIDs(%q) = %v with error %v", s, ids, err)
			}
			return
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			if id < 1 {
				t.Fatalf("parseIDs(%q) accepted %d", s, id)
			}
			parts[i] = strconv.FormatInt(id, 10)
		}
		again, err := parseIDs(strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, ids) {
			t.Fatalf("parseIDs(%q) = %v does not read back: %v, %v", s, ids, again, err)
		}
	})
}

// The trust store the fuzz targets load takes the CRL they can POST, so a
// withCRL input can reach the success path.
func TestAdminFuzzCRLIsAccepted(t *testing.T) {
	a := newAdminFuzz(t)
	h, live := a.handler(t)
	req := httptest.NewRequest(http.MethodPost, "/trust-stores/ts/revocations", bytes.NewReader(a.crl))
	req.Host = "127.0.0.1:9090"
	req.Header.Set("Authorization", "Bearer "+fuzzToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, live.DescribeRevocations(), 2)
}
