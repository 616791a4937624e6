package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/albmtls/albmtls/emulator/config"
	"github.com/albmtls/albmtls/importer"
	"github.com/albmtls/albmtls/importer/cloudformation"
	"github.com/albmtls/albmtls/importer/k8s"
	"github.com/albmtls/albmtls/importer/terraform"
	"github.com/albmtls/albmtls/internal/boundedio"
	"github.com/albmtls/albmtls/pki"
)

// importConfig holds the flags of `import`, shared by every source (and by
// `serve --from`, which imports and serves in one command).
type importConfig struct {
	out          string
	allowPartial bool
	s3Dir        string
	baseDir      string
	pkiDir       string
	certs        []string
	targets      []string
	ports        []string
	params       []string
	trustStores  []string
}

func newImportCmd(a *app) *cobra.Command {
	var c importConfig
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Write albmtls.yaml from the Terraform plan, CloudFormation/CDK template or Ingress you deploy your ALB with",
		Long: `import reads the definition you deploy an ALB from and writes the albmtls.yaml
that emulates it (docs/import.md). What lives in AWS is stood in for locally:
S3 objects through --s3-dir (DIR/BUCKET/KEY) or the aws_s3_object's source,
ACM certificates through --cert or the test PKI's server certificate (--pki),
registered targets through --target. Every field albmtls cannot map is listed
with its resource address and attribute, and the import fails unless
--allow-partial.`,
	}
	flags := cmd.PersistentFlags()
	flags.StringVarP(&c.out, "out", "o", "", "write the config to this file (default standard output)")
	c.addFlags(flags)
	cmd.AddCommand(&cobra.Command{
		Use:     "terraform PLAN.json",
		Short:   "Import the ALB of a Terraform plan (terraform show -json PLAN)",
		Example: "  terraform plan -out tf.plan && terraform show -json tf.plan > plan.json\n  albmtls import terraform plan.json --pki pki --s3-dir s3 --target i-0abc=127.0.0.1:8080 -o albmtls.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(a, c, args[0], terraform.Import)
		},
	})
	cf := &cobra.Command{
		Use:     "cloudformation TEMPLATE",
		Aliases: []string{"cfn", "cdk"},
		Short:   "Import the ALB of a CloudFormation template, YAML or JSON, or of cdk synth output",
		Example: "  cdk synth EdgeStack > edge.template.yaml\n  albmtls import cloudformation edge.template.yaml --pki pki --s3-dir s3 --parameter Environment=dev -o albmtls.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			imp, err := cloudFormationSource(c)
			if err != nil {
				return usageError(err)
			}
			return runImport(a, c, args[0], imp)
		},
	}
	cf.Flags().StringArrayVar(&c.params, "parameter", nil, "KEY=VALUE: a template parameter's value (repeatable; default: its Default)")
	cmd.AddCommand(cf)
	cmd.AddCommand(&cobra.Command{
		Use:     "k8s INGRESS.yaml",
		Aliases: []string{"kubernetes", "ingress"},
		Short:   "Import the ALB the AWS Load Balancer Controller builds for an Ingress",
		Example: "  albmtls import k8s ingress.yaml --pki pki --trust-store clients=pki/ca/bundle.pem,pki/crl/intermediate.crl.pem --target api:8080=127.0.0.1:8080 -o albmtls.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(a, c, args[0], k8s.Import)
		},
	})
	return cmd
}

// addFlags registers the flags that say how AWS resources are stood in for
// locally; import and serve --from share them.
func (c *importConfig) addFlags(flags *pflag.FlagSet) {
	flags.BoolVar(&c.allowPartial, "allow-partial", false, "write the config even if some fields could not be mapped (they are still listed on stderr)")
	flags.StringVar(&c.s3Dir, "s3-dir", "", "directory mirroring S3: s3://BUCKET/KEY is DIR/BUCKET/KEY")
	flags.StringVar(&c.baseDir, "base-dir", "", "directory relative local paths of the definition are read from (default: the definition's directory)")
	flags.StringVar(&c.pkiDir, "pki", "", "test PKI directory (albmtls pki init) whose server certificate stands in for ACM certificates not given with --cert")
	flags.StringArrayVar(&c.certs, "cert", nil, "ARN=cert.pem,key.pem: a local certificate chain and key for an ACM certificate (repeatable)")
	flags.StringArrayVar(&c.targets, "target", nil, "ID=host:port: the local address of a registered instance or IP target (repeatable)")
	flags.StringArrayVar(&c.trustStores, "trust-store", nil, "NAME=bundle.pem[,crl.pem...]: the local files of a trust store the definition names but does not define (repeatable)")
	flags.StringArrayVar(&c.ports, "port", nil, "PORT=LOCAL: bind the listener of PORT on LOCAL instead (0 picks a free port; repeatable)")
}

// importSources are the definitions `serve --from KIND:FILE` reads, by
// kind and alias, as the import subcommands name them.
var importSources = map[string]func(c importConfig) (func([]byte, importer.Options) (*config.Config, importer.Problems, error), error){
	"terraform": func(importConfig) (func([]byte, importer.Options) (*config.Config, importer.Problems, error), error) {
		return terraform.Import, nil
	},
	"cloudformation": cloudFormationSource, "cfn": cloudFormationSource, "cdk": cloudFormationSource,
	"k8s": k8sSource, "kubernetes": k8sSource, "ingress": k8sSource,
}

func cloudFormationSource(c importConfig) (func([]byte, importer.Options) (*config.Config, importer.Problems, error), error) {
	params := map[string]string{}
	for _, p := range c.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("import: --parameter %q: want KEY=VALUE", p)
		}
		params[k] = v
	}
	return func(data []byte, o importer.Options) (*config.Config, importer.Problems, error) {
		return cloudformation.Import(data, cloudformation.Options{Options: o, Parameters: params})
	}, nil
}

func k8sSource(importConfig) (func([]byte, importer.Options) (*config.Config, importer.Problems, error), error) {
	return k8s.Import, nil
}

// importDefinition reads src, imports it, lists what cannot be emulated on
// stderr, and returns the config written for file (its validated YAML).
func importDefinition(a *app, c importConfig, src, file string, imp func([]byte, importer.Options) (*config.Config, importer.Problems, error)) (*config.Config, []byte, error) {
	opts, err := c.options(src)
	if err != nil {
		return nil, nil, usageError(err)
	}
	data, err := boundedio.ReadFile(src, "the definition", 64<<20)
	if err != nil {
		return nil, nil, configError(fmt.Errorf("import: reading %s: %w", src, err))
	}
	cfg, problems, err := imp(data, opts)
	if err != nil { // not a plan, template or manifest at all
		return nil, nil, configError(fmt.Errorf("import: %s: %w", src, err))
	}
	for _, p := range problems {
		fmt.Fprintln(a.stderr, p.String())
	}
	if len(problems) > 0 && !c.allowPartial {
		return nil, nil, fmt.Errorf("import: %s: %d field(s) listed above cannot be emulated or resolved; fix them or pass --allow-partial to write the rest", src, len(problems))
	}
	out, err := importer.Write(cfg, file)
	return cfg, out, err
}

func runImport(a *app, c importConfig, src string, imp func([]byte, importer.Options) (*config.Config, importer.Problems, error)) error {
	file := c.out
	if file == "" {
		file = "albmtls.yaml"
	}
	cfg, out, err := importDefinition(a, c, src, file, imp)
	if err != nil {
		return err
	}
	if c.out == "" {
		_, err = a.stdout.Write(out)
		return err
	}
	if err := pki.WriteFileAtomic(c.out, out, 0o644); err != nil {
		return fmt.Errorf("import: writing %s: %w", c.out, err)
	}
	fmt.Fprintf(a.stderr, "wrote %s: %s\n", c.out, importer.Describe(cfg))
	return nil
}

// options turns the flags into importer.Options, with absolute paths so
// the written config works wherever it is put.
func (c importConfig) options(src string) (importer.Options, error) {
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	o := importer.Options{S3Dir: abs(c.s3Dir), BaseDir: abs(c.baseDir), Certs: map[string]importer.CertPair{}, Targets: map[string]string{}, Ports: map[int]int{}}
	if o.BaseDir == "" {
		o.BaseDir = abs(filepath.Dir(src))
	}
	if c.pkiDir != "" {
		o.DefaultCert = importer.PKICert(abs(c.pkiDir))
	}
	for _, s := range c.certs {
		arn, files, ok := strings.Cut(s, "=")
		cert, key, ok2 := strings.Cut(files, ",")
		if !ok || !ok2 || arn == "" || cert == "" || key == "" {
			return o, fmt.Errorf("import: --cert %q: want ARN=cert.pem,key.pem", s)
		}
		o.Certs[arn] = importer.CertPair{Certificate: abs(cert), PrivateKey: abs(key)}
	}
	for _, s := range c.targets {
		id, addr, ok := strings.Cut(s, "=")
		if !ok || id == "" || addr == "" {
			return o, fmt.Errorf("import: --target %q: want ID=host:port", s)
		}
		o.Targets[id] = addr
	}
	o.TrustStores = map[string]importer.TrustStoreFiles{}
	for _, s := range c.trustStores {
		name, files, ok := strings.Cut(s, "=")
		l := strings.Split(files, ",")
		if !ok || name == "" || l[0] == "" {
			return o, fmt.Errorf("import: --trust-store %q: want NAME=bundle.pem[,crl.pem...]", s)
		}
		f := importer.TrustStoreFiles{Bundle: abs(l[0])}
		for _, crl := range l[1:] {
			f.Revocations = append(f.Revocations, abs(crl))
		}
		o.TrustStores[name] = f
	}
	for _, s := range c.ports {
		from, to, ok := strings.Cut(s, "=")
		f, err1 := strconv.Atoi(from)
		t, err2 := strconv.Atoi(to)
		if !ok || err1 != nil || err2 != nil {
			return o, fmt.Errorf("import: --port %q: want PORT=LOCAL, both numbers", s)
		}
		o.Ports[f] = t
	}
	if _, err := os.Stat(o.BaseDir); err != nil {
		return o, fmt.Errorf("import: --base-dir: %w", err)
	}
	return o, nil
}
