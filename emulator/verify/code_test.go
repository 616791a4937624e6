package verify_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/albmtls/albmtls/emulator/verify"
)

func TestCodes(t *testing.T) {
	require.Len(t, verify.Codes, 14, "alb-behaviour §3 lists 13 failure codes plus Success")
	for _, c := range verify.Codes {
		assert.True(t, c.Valid())
		assert.NotEmpty(t, c.Description())
		got, err := verify.ParseCode(string(c))
		require.NoError(t, err)
		assert.Equal(t, c, got)
		if c != verify.Success {
			assert.Equal(t, "Failed:"+string(c), c.LogValue())
			got, err = verify.ParseCode(c.LogValue())
			require.NoError(t, err)
			assert.Equal(t, c, got)
		}
	}
	assert.Equal(t, "Success", verify.Success.LogValue())
	assert.Equal(t, "Client certificate has been revoked by the CA", verify.ClientCertCrlHit.Description())
}

func TestParseCodeRejects(t *testing.T) {
	for _, s := range []string{"", "ClientCertMissing", "clientcertexpired", "Failed:Success", "Failed:"} {
		_, err := verify.ParseCode(s)
		require.Error(t, err, s)
		assert.Contains(t, err.Error(), "ClientCertCrlHit", "the error lists the valid codes")
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := []verify.Options{
		{},
		{CRLMissingForIssuer: verify.CRLMissingFail, StaleCRL: verify.StaleCRLFail, MissingCertificate: verify.ClientCertUntrusted},
		{UnhandledCriticalExtension: verify.ClientCertInvalid, MaxChainDepth: 7, MaxCertificateMessageSize: 1 << 20},
	}
	for _, o := range ok {
		assert.NoError(t, o.Validate())
	}
	bad := map[string]verify.Options{
		`"sometimes"`:          {CRLMissingForIssuer: "sometimes"},
		`"ignore"`:             {StaleCRL: "ignore"},
		"valid codes":          {MissingCertificate: "Nope"},
		"choose a failure":     {MissingCertificate: verify.Success},
		"must not be negative": {MaxChainDepth: -1},
	}
	for want, o := range bad {
		err := o.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), want)
	}
	v := verify.New(nil, verify.Options{})
	d := v.Options()
	assert.Equal(t, 4, d.MaxChainDepth)
	assert.Equal(t, 65536, d.MaxCertificateMessageSize)
	assert.Equal(t, verify.UnmappedConnectionError, d.MissingCertificate)
	assert.Equal(t, verify.CRLMissingSkip, d.CRLMissingForIssuer)
	assert.Equal(t, verify.StaleCRLApply, d.StaleCRL)
	assert.Equal(t, verify.ClientCertUntrusted, d.UnhandledCriticalExtension)
}
