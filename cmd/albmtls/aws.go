package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/albmtls/albmtls/awsapi"
	"github.com/albmtls/albmtls/emulator/config"
)

// newAWSCmd is `albmtls aws`: commands that talk to the AWS API endpoint
// of a running albmtls (serve --aws-api, demo).
func newAWSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "Work with the AWS API endpoint of a running albmtls (export, status)",
		Long: `aws talks to the AWS API endpoint of a running albmtls (albmtls serve
--aws-api, or albmtls demo, which serves it on 127.0.0.1:4566): export
writes the running state as an albmtls.yaml, status lists the load
balancers and where their listeners are bound. The endpoint is --endpoint,
else $AWS_ENDPOINT_URL, else http://127.0.0.1:4566. See docs/aws-api.md.`,
	}
	var endpoint string
	cmd.PersistentFlags().StringVar(&endpoint, "endpoint", "", "the AWS API endpoint `URL` (default $AWS_ENDPOINT_URL, else http://"+config.DefaultAWSAPIListen+")")
	base := func() string {
		return strings.TrimSuffix(cmp.Or(endpoint, os.Getenv("AWS_ENDPOINT_URL"), "http://"+config.DefaultAWSAPIListen), "/")
	}

	var lb, out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write a load balancer's running state (config file and API changes) as an albmtls.yaml",
		Long: `export writes the running state of one load balancer, with every change made
through the AWS API, as an albmtls.yaml that starts the same ALB with
albmtls serve -c. Its trust store and certificate files are the ones the
running albmtls wrote (under aws_api.state_dir, or a temporary directory),
named by absolute path.`,
		Example: `  albmtls aws export > albmtls.yaml
  albmtls aws export --load-balancer story-alb -o story.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if lb != "" {
				q.Set("load_balancer", lb)
			}
			body, err := getInternal(cmd.Context(), base()+"/_albmtls/export?"+q.Encode())
			if err != nil {
				return err
			}
			if out == "" {
				_, err = a.stdout.Write(body)
				return err
			}
			if err := os.WriteFile(out, body, 0o644); err != nil {
				return usageError(err)
			}
			fmt.Fprintf(a.stderr, "wrote %s\n", out)
			return nil
		},
	}
	export.Flags().StringVar(&lb, "load-balancer", "", "the load balancer's `NAME` or ARN (needed when there are several)")
	export.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of standard output")
	completeFiles(export, "output", extYAML...)

	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "List the load balancers the AWS API runs and where their listeners are bound",
		Long: `status lists the load balancers of a running albmtls and, for each
listener, its ALB port and the local address it is bound to: a listener
created on port 443 through the API is bound at 127.0.0.1:10443 (ports below
1024 get aws_api.privileged_port_offset, default 10000).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := getInternal(cmd.Context(), base()+"/_albmtls/load-balancers")
			if err != nil {
				return err
			}
			if asJSON {
				_, err = a.stdout.Write(body)
				return err
			}
			var st struct{ LoadBalancers []awsapi.RunningLoadBalancer }
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("aws status: the endpoint's answer is not albmtls's: %w", err)
			}
			for _, lb := range st.LoadBalancers {
				fmt.Fprintf(a.stdout, "%s  %s\n", lb.LoadBalancerName, lb.LoadBalancerArn)
				for _, l := range lb.Listeners {
					fmt.Fprintf(a.stdout, "  %-5s %5d  %s\n", l.Protocol, l.Port, l.URL)
				}
			}
			return nil
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the endpoint's JSON answer")
	cmd.AddCommand(export, status)
	return cmd
}

// getInternal GETs one of albmtls's /_albmtls/ routes.
func getInternal(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, usageErrorf("--endpoint: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no albmtls AWS API answers at %s (start one with albmtls serve --aws-api or albmtls demo): %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, usageErrorf("%s", e.Error)
		}
		return nil, fmt.Errorf("%s answered %s: is it an albmtls AWS API endpoint?", u, resp.Status)
	}
	return body, nil
}
