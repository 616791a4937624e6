package emulator

import (
	"sync"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/connlog"
	"github.com/albmtls/albmtls/emulator/listener"
	"github.com/albmtls/albmtls/emulator/verify"
)

// ConnectionEvent is one connection attempt, as logged.
type ConnectionEvent struct {
	// ListenerIndex is the listener's position in the config.
	ListenerIndex int
	Entry         connlog.Entry
	// Code is the tls_verify_status code ("" for HTTP listeners).
	Code verify.Code
	// Reason explains a failure in one sentence (verifier or TLS error).
	Reason string
}

// ConnectionClosedEvent is the end of a connection that reached the HTTP
// server (Options.OnConnectionClosed).
type ConnectionClosedEvent struct {
	ListenerIndex int
	// TraceID is the connection's conn_trace_id, as in its ConnectionEvent.
	TraceID string
}

// RequestEvent is one request, as logged.
type RequestEvent struct {
	ListenerIndex int
	Entry         *accesslog.Entry
}

// lineBuf pools the buffers log lines are formatted into.
var lineBuf = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// onConnection writes the connection-log line of one connection attempt
// (alb-behaviour §6.2) and counts it.
func (s *Server) onConnection(lr *listenerRuntime, c *listener.Conn) {
	e := connlog.Entry{
		Time:             time.Now(),
		Client:           c.Client,
		ListenerPort:     c.ListenerPort,
		HandshakeLatency: connlog.NoLatency,
		TraceID:          c.TraceID,
		ELB:              s.elb,
		NodeIP:           s.nodeIP,
	}
	if !e.NodeIP.IsValid() {
		e.NodeIP = c.Local.Addr().Unmap()
	}
	var reason string
	if c.Protocol == "HTTPS" {
		e.TLSProtocol, e.TLSCipher, e.KeyExchange = c.TLS.Protocol, c.TLS.Cipher, c.TLS.KeyExchange
		if c.Handshaked {
			e.HandshakeLatency = c.HandshakeLatency
		}
		// Certificate fields are "-" when mTLS is off (alb-behaviour §2.1, §6.2).
		if c.Mode != listener.ModeOff && c.Leaf != nil {
			cert := c.Cert() // formatted once, shared with the headers
			e.Subject, e.Validity, e.Serial = cert.Subject, cert.Validity, cert.Serial
		}
		e.VerifyStatus = c.Status.LogValue()
		switch {
		case c.Verify != nil && c.Verify.Code != verify.Success:
			reason = c.Verify.Reason
		case c.Err != nil:
			reason = c.Err.Error()
		}
	}
	if s.connLog != nil {
		bp := lineBuf.Get().(*[]byte)
		*bp = e.AppendTo((*bp)[:0])
		if err := s.connLog.WriteLine(*bp); err != nil {
			s.log.Error("writing the connection log", "err", err)
		}
		lineBuf.Put(bp)
	}
	s.metrics.connection(lr, c)
	if c.Status != "" && c.Status != verify.Success {
		s.log.Debug("connection rejected", "listener", lr.path, "client", c.Client.String(),
			"tls_verify_status", e.VerifyStatus, "reason", reason, "conn_trace_id", c.TraceID)
	}
	if s.opts.OnConnection != nil {
		s.opts.OnConnection(ConnectionEvent{ListenerIndex: lr.index, Entry: e, Code: c.Status, Reason: reason})
	}
}

// onRequest writes the access-log line of one request (alb-behaviour §7).
func (s *Server) onRequest(lr *listenerRuntime) func(*accesslog.Entry) {
	return func(e *accesslog.Entry) {
		if s.accLog != nil {
			bp := lineBuf.Get().(*[]byte)
			if s.cfg.Emulation.AccessLogUnreleasedFields {
				*bp = e.AppendLayout((*bp)[:0], accesslog.Layout{Unreleased: 2})
			} else {
				*bp = e.AppendTo((*bp)[:0])
			}
			if err := s.accLog.WriteLine(*bp); err != nil {
				s.log.Error("writing the access log", "err", err)
			}
			lineBuf.Put(bp)
		}
		s.metrics.request(lr, e)
		if s.opts.OnRequest != nil {
			s.opts.OnRequest(RequestEvent{ListenerIndex: lr.index, Entry: e})
		}
	}
}
