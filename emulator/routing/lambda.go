package routing

import (
	"net/http"
	"time"

	"github.com/albmtls/albmtls/emulator/accesslog"
	"github.com/albmtls/albmtls/emulator/albheader"
)

// forwardLambda runs a forward to a lambda target group: the headers are
// built by the same albheader.ConnHeaders as for HTTP targets, so the
// function sees the mTLS header values an HTTP target would, byte for
// byte; lambdatarget builds the event and maps the response. The access
// log writes target:port, target:port_list and target_status_code_list as
// "-" for a Lambda target, target_status_code the function's statusCode
// ("-" when it gave none) and error_reason ALB's Lambda code (AWS docs,
// access log "Example entries for Lambda functions").
func (h *Handler) forwardLambda(w http.ResponseWriter, r *http.Request, a *Action, headers *albheader.ConnHeaders, e *accesslog.Entry) {
	e.TargetGroupARN = a.GroupARN
	hdr := r.Header.Clone()
	if headers != nil {
		_ = headers.Apply(hdr, e.RequestCreationTime, h.cfg.Rand)
	}
	traceID := hdr.Get(albheader.TraceID)
	if traceID == "" {
		traceID = h.traceID(r, headers, e.RequestCreationTime)
	}
	e.TraceID = traceID
	rw := &responseHeaders{ResponseWriter: w, opts: h.cfg.ResponseHeaders}
	out := a.Lambda.Serve(rw, r, hdr, traceID, h.cfg.Pages)
	e.Time = time.Now()
	e.ELBStatusCode = out.ELBStatus
	e.TargetStatusCode = out.FunctionStatus
	e.ErrorReason = string(out.Reason)
	e.SentBytes = out.SentBytes
	if out.Invoked {
		e.RequestProcessingTime = out.RequestTime
		e.TargetProcessingTime = out.TargetTime
		e.ResponseProcessingTime = out.ResponseTime
	}
	h.log(e)
	if out.ELBStatus == 460 {
		panic(http.ErrAbortHandler)
	}
}
