package albmtls_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/testcontainers/testcontainers-go"

	"github.com/albmtls/albmtls/docker/albmtls"
	"github.com/albmtls/albmtls/emulator/connlog"
)

// The examples need a Docker daemon and the albmtls:dev image (BuildImage,
// or `make docker`); TestMain builds it.

func ExampleRun() {
	ctx := context.Background()

	// The service under test, on the host: it must listen where the
	// container reaches it (0.0.0.0 or the bridge gateway), not 127.0.0.1.
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	svc := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("X-Amzn-Mtls-Clientcert-Subject"))
	})}
	go func() { _ = svc.Serve(l) }()
	defer svc.Close()

	ctr, err := albmtls.Run(ctx, albmtls.DefaultImage, albmtls.WithHostTarget(l.Addr().(*net.TCPAddr).Port))
	defer func() { _ = testcontainers.TerminateContainer(ctr) }()
	if err != nil {
		fmt.Println(err)
		return
	}

	cfg, err := ctr.ClientTLSConfig("valid")
	if err != nil {
		fmt.Println(err)
		return
	}
	url, err := ctr.HTTPSEndpoint(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := hc.Get(url + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello CN=valid
}

func ExampleContainer_ConnectionLog() {
	ctx := context.Background()
	ctr, err := albmtls.Run(ctx, albmtls.DefaultImage)
	defer func() { _ = testcontainers.TerminateContainer(ctr) }()
	if err != nil {
		fmt.Println(err)
		return
	}

	// revoked is listed in the intermediate CA's CRL: the emulator lets
	// the TLS 1.3 handshake finish, then resets the connection.
	cfg, _ := ctr.ClientTLSConfig("revoked")
	url, _ := ctr.HTTPSEndpoint(ctx)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	if _, err := hc.Get(url + "/"); err != nil {
		fmt.Println("rejected")
	}

	entry, err := ctr.WaitForConnectionLog(ctx, func(e connlog.Entry) bool { return e.Subject == "CN=revoked" })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(entry.VerifyStatus)
	// Output:
	// rejected
	// Failed:ClientCertCrlHit
}

func ExampleContainer_Revoke() {
	ctx := context.Background()
	ctr, err := albmtls.Run(ctx, albmtls.DefaultImage)
	defer func() { _ = testcontainers.TerminateContainer(ctr) }()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := ctr.ClientTLSConfig("valid")
	url, _ := ctr.HTTPSEndpoint(ctx)
	// A revocation applies to new connections, as on ALB: no keep-alive.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	get := func() string {
		resp, err := hc.Get(url + "/")
		if err != nil {
			return "rejected"
		}
		resp.Body.Close()
		return resp.Status
	}

	fmt.Println("before:", get())
	if err := ctr.Revoke(ctx, "valid"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after:", get())
	// Output:
	// before: 200 OK
	// after: rejected
}
