package backend_test

import (
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/backend"
	"github.com/albmtls/albmtls/emulator/certfmt"
	"github.com/albmtls/albmtls/pki/pkitest"
)

// chainWithPlus returns a client chain whose base64 holds '+' and '=', so
// that the cases below exercise the characters decoders get wrong.
func chainWithPlus(t *testing.T) []*x509.Certificate {
	t.Helper()
	set := pkitest.Standard(t)
	for _, name := range set.ClientNames() {
		leaf, _ := set.Client(name)
		if len(leaf.Chain) < 2 || len(leaf.Chain) > 3 {
			continue
		}
		pem := certfmt.PEMURLEncode(leaf.Chain, certfmt.EqualsLiteral)
		if strings.Contains(pem, "+") && strings.Contains(pem, "=") {
			var certs []*x509.Certificate
			for _, der := range leaf.Chain {
				c, err := x509.ParseCertificate(der)
				require.NoError(t, err)
				certs = append(certs, c)
			}
			return certs
		}
	}
	t.Fatal("no client chain of the standard PKI has both '+' and '=' in its base64")
	return nil
}

func ders(certs []*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

func TestDecodeCertificates(t *testing.T) {
	chain := chainWithPlus(t)
	literal := certfmt.PEMURLEncode(ders(chain), certfmt.EqualsLiteral)
	percent := certfmt.PEMURLEncode(ders(chain), certfmt.EqualsPercent)
	require.Contains(t, percent, "%3D", "the documented example's form")
	// What a form decoder hands on: every '+' became a space.
	formDecoded, err := url.QueryUnescape(literal)
	require.NoError(t, err)
	plusAsPercent := strings.ReplaceAll(literal, "+", "%2B")

	tests := []struct {
		name    string
		value   string
		certs   int
		wantErr string
	}{
		{name: "ALB's encoding, literal + and =", value: literal, certs: len(chain)},
		{name: "= as %3D (the documentation's example)", value: percent, certs: len(chain)},
		{name: "+ as %2B", value: plusAsPercent, certs: len(chain)},
		{name: "leaf alone", value: certfmt.PEMURLEncode(ders(chain[:1]), certfmt.EqualsLiteral), certs: 1},
		{name: "CRLF line ends", value: strings.ReplaceAll(literal, "%0A", "%0D%0A"), certs: len(chain)},
		{name: "form-decoded value", value: formDecoded, wantErr: "decoded as a form, turning '+' into space"},
		{name: "empty", value: "", wantErr: "the header is empty"},
		{name: "bad percent-encoding", value: "-----BEGIN%zzCERTIFICATE", wantErr: "not valid percent-encoding"},
		{name: "not PEM", value: "hello", wantErr: "certificate 1 is not valid PEM"},
		{name: "truncated", value: literal[:len(literal)/3], wantErr: "certificate 1 is not valid PEM"},
		{name: "garbage after the chain", value: literal + "junk", wantErr: "is not valid PEM"},
		{name: "a key, not a certificate", value: url.PathEscape("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), wantErr: `is a "PRIVATE KEY", not a CERTIFICATE`},
		{name: "bad DER", value: url.PathEscape("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), wantErr: "certificate 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := backend.DecodeCertificates(tt.value)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, tt.certs)
			for i, c := range got {
				assert.Equal(t, chain[i].Raw, c.Raw, "certificate %d", i)
			}
			// The reference decoder of the emulator agrees.
			ref, err := certfmt.DecodePEMURL(tt.value)
			require.NoError(t, err)
			assert.Len(t, ref, tt.certs)
		})
	}
}
