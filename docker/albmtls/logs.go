package albmtls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/connlog"
)

// LogWait bounds how long ConnectionLog and AccessLog wait for lines the
// emulator has counted but not yet written (its file writer is
// asynchronous; lines land within milliseconds).
const LogWait = 5 * time.Second

// logPoll is the interval between two reads of a log file.
const logPoll = 20 * time.Millisecond

// ConnectionLog returns the connection log (one entry per connection
// attempt, in ALB's format, parsed), with every attempt the emulator has
// counted so far: it reads albmtls_connections_total from /metrics and
// waits, up to LogWait, until the file holds at least that many lines. The
// emulator counts a connection right after it writes the line, when the
// handshake has succeeded or failed, which a client sees at about the same
// time; a test that has just been rejected should look for its entry and
// call again if it is not there yet (see WaitForConnectionLog).
func (c *Container) ConnectionLog(ctx context.Context) ([]connlog.Entry, error) {
	lines, err := c.logLines(ctx, c.layout.connLog, "logs.connection.file", "albmtls_connections_total")
	if err != nil {
		return nil, err
	}
	entries := make([]connlog.Entry, 0, len(lines))
	for i, l := range lines {
		e, err := connlog.ParseLine(l)
		if err != nil {
			return entries, fmt.Errorf("albmtls: %s line %d: %w", c.layout.connLog, i+1, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// AccessLog returns the access log (one entry per request, parsed), with
// every request the emulator has counted in albmtls_requests_total, as
// ConnectionLog does for connections.
func (c *Container) AccessLog(ctx context.Context) ([]accesslog.Entry, error) {
	lines, err := c.logLines(ctx, c.layout.accessLog, "logs.access.file", "albmtls_requests_total")
	if err != nil {
		return nil, err
	}
	entries := make([]accesslog.Entry, 0, len(lines))
	for i, l := range lines {
		e, err := accesslog.ParseLine(l)
		if err != nil {
			return entries, fmt.Errorf("albmtls: %s line %d: %w", c.layout.accessLog, i+1, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// WaitForConnectionLog polls the connection log until match returns true
// for an entry, and returns that entry; it gives up when ctx ends or after
// LogWait. Use it right after a connection whose entry a test checks.
func (c *Container) WaitForConnectionLog(ctx context.Context, match func(connlog.Entry) bool) (connlog.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, LogWait)
	defer cancel()
	var seen int
	for {
		entries, err := c.ConnectionLog(ctx)
		if err != nil && ctx.Err() == nil {
			return connlog.Entry{}, err
		}
		for _, e := range entries {
			if match(e) {
				return e, nil
			}
		}
		seen = len(entries)
		select {
		case <-ctx.Done():
			return connlog.Entry{}, fmt.Errorf("albmtls: no matching connection log entry among %d after %s", seen, LogWait)
		case <-time.After(logPoll):
		}
	}
}

// logLines reads a log file from the container until it has as many
// complete lines as the counter says the emulator wrote.
func (c *Container) logLines(ctx context.Context, file, key, counter string) ([]string, error) {
	if file == "" {
		return nil, fmt.Errorf("albmtls: the config has no %s, so there is no log to read; set it in the config", key)
	}
	ctx, cancel := context.WithTimeout(ctx, LogWait)
	defer cancel()
	want, err := c.counter(ctx, counter)
	if err != nil {
		return nil, err
	}
	for {
		lines, err := c.readLines(ctx, file)
		if err != nil {
			return nil, err
		}
		if len(lines) >= want {
			return lines, nil
		}
		select {
		case <-ctx.Done():
			return lines, fmt.Errorf("albmtls: %s has %d lines but the emulator counted %d in %s after %s", file, len(lines), want, counter, LogWait)
		case <-time.After(logPoll):
		}
	}
}

// readLines copies a file out of the container and returns its complete
// lines; a line still being written (no newline yet) is left out.
func (c *Container) readLines(ctx context.Context, file string) ([]string, error) {
	rc, err := c.CopyFileFromContainer(ctx, file)
	if err != nil {
		if isNotFound(err) || strings.Contains(err.Error(), "Could not find the file") {
			return nil, nil // nothing logged yet
		}
		return nil, fmt.Errorf("albmtls: reading %s from the container: %w", file, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("albmtls: reading %s from the container: %w", file, err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		return nil, nil
	}
	return strings.Split(string(data), "\n"), nil
}

// counter sums a Prometheus counter over all its label values.
func (c *Container) counter(ctx context.Context, name string) (int, error) {
	body, err := c.admin(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return 0, err
	}
	total := 0.0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("albmtls: /metrics: %q has no number: %w", line, err)
		}
		total += v
	}
	return int(total), sc.Err()
}

// adminError is an error answer of the admin API, which uses the ELBv2
// API's error codes (TrustStoreNotFound, InvalidRevocationContent, …).
type adminError struct {
	Status  int
	Code    string
	Message string
}

func (e *adminError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("admin endpoint answered %d", e.Status)
	}
	return fmt.Sprintf("admin endpoint answered %d %s: %s", e.Status, e.Code, e.Message)
}

// admin sends one request to the admin endpoint and returns the body of a
// 2xx answer.
func (c *Container) admin(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	base, err := c.AdminEndpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("albmtls: finding the admin endpoint: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("albmtls: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("albmtls: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("albmtls: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &adminError{Status: resp.StatusCode}
		var e struct {
			Error struct{ Code, Message string }
		}
		if jsonErr := decodeJSON(data, &e); jsonErr == nil {
			ae.Code, ae.Message = e.Error.Code, e.Error.Message
		}
		return nil, fmt.Errorf("albmtls: %s %s: %w", method, path, ae)
	}
	return data, nil
}

// errNoTrustStore is returned by Revoke when the config has no trust store.
var errNoTrustStore = errors.New("albmtls: the config has no trust store to add a CRL to")
