package conformance

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/scenarios"
)

// lambdaTimeout is the function timeout of a scenario's lambda target
// group: the sleep function outlasts it.
const lambdaTimeout = time.Second

// lambdaGroup is the template's target group for a lambda setup: the
// harness's function (Lambda.Function) at its Invoke API endpoint.
func lambdaGroup(l *scenarios.Lambda, endpoint string) config.TargetGroup {
	fn := l.Function
	if fn == "" {
		fn = scenarios.LambdaEcho
	}
	g := config.TargetGroup{
		Name:       TargetGroupName,
		TargetType: config.TargetTypeLambda,
		Functions:  []config.LambdaTarget{{Function: fn, Endpoint: "http://" + endpoint}},
		Lambda:     config.LambdaSettings{Timeout: config.Duration(lambdaTimeout)},
	}
	if l.MultiValueHeaders {
		g.Attributes = map[string]string{config.AttrLambdaMultiValueHeaders: "true"}
	}
	return g
}

// albEvent is the part of ALB's Lambda event the harness's function reads.
type albEvent struct {
	HTTPMethod        string              `json:"httpMethod"`
	Path              string              `json:"path"`
	Query             map[string]string   `json:"queryStringParameters"`
	MultiQuery        map[string][]string `json:"multiValueQueryStringParameters"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
}

// LambdaHandler serves the Lambda Invoke API
// (POST /2015-03-31/functions/NAME/invocations) for the harness's
// functions, named by scenarios.Lambda.Function. The echo function answers
// with the echo target's document, built from the event's headers.
func LambdaHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		var ev albEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, `{"message":"the event is not JSON"}`, http.StatusBadRequest)
			return
		}
		multi := ev.MultiValueHeaders != nil
		doc := map[string]any{"statusCode": 200, "statusDescription": "200 OK", "isBase64Encoded": false}
		setHeaders := func(h map[string][]string) {
			if multi {
				doc["multiValueHeaders"] = h
				return
			}
			single := map[string]string{}
			for k, vs := range h {
				single[k] = vs[len(vs)-1]
			}
			doc["headers"] = single
		}
		switch r.PathValue("name") {
		case scenarios.LambdaEcho:
			reply := echoReply{Marker: 1, Method: ev.HTTPMethod, Path: ev.Path + eventQuery(ev), Headers: http.Header{}}
			for k, v := range ev.Headers {
				reply.Headers.Add(k, v)
			}
			for k, vs := range ev.MultiValueHeaders {
				for _, v := range vs {
					reply.Headers.Add(k, v)
				}
			}
			reply.Host = reply.Headers.Get("Host")
			reply.Headers.Del("Host")
			body, _ := json.Marshal(reply)
			doc["body"] = string(body)
			setHeaders(map[string][]string{"Content-Type": {"application/json"}})
		case scenarios.LambdaGarbage:
			delete(doc, "statusCode")
			doc["body"] = "a response without statusCode"
		case scenarios.LambdaError:
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			doc = map[string]any{"errorMessage": "the harness's function failed", "errorType": "Error"}
		case scenarios.LambdaBig:
			doc["body"] = strings.Repeat("x", 2<<20)
		case scenarios.LambdaSleep:
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * lambdaTimeout):
			}
		case scenarios.LambdaBinary:
			doc["isBase64Encoded"] = true
			doc["body"] = base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff})
			setHeaders(map[string][]string{"Content-Type": {"application/octet-stream"}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"Type":"User","message":"Function not found"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	return mux
}

// eventQuery rebuilds "?k=v&…" from the event's parameters (sorted), so
// that the echo's path shows what the function was given.
func eventQuery(ev albEvent) string {
	var pairs []string
	for k, v := range ev.Query {
		pairs = append(pairs, k+"="+v)
	}
	for k, vs := range ev.MultiQuery {
		for _, v := range vs {
			pairs = append(pairs, k+"="+v)
		}
	}
	if len(pairs) == 0 {
		return ""
	}
	sort.Strings(pairs)
	return "?" + strings.Join(pairs, "&")
}

// startLambda serves LambdaHandler on a free loopback port.
func (s *servers) startLambda() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.lambdaAddr = ln.Addr().String()
	s.lambda = &http.Server{Handler: LambdaHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.lambda.Serve(ln) }()
	return nil
}
