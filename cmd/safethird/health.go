package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/health/grpc_health_v1"
)

func newHealthCommand() *cobra.Command {
	var (
		service string
		conn    *connFlags
	)
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that a server is serving (grpc.health.v1)",
		Long: `health asks the server's grpc.health.v1 service for its status and prints it.
Exit status: 0 SERVING, 1 anything else or no answer, 2 usage error, so
scripts can wait for a server to come up.`,
		Example: `  safethird health
  until safethird health --addr 127.0.0.1:50051 >/dev/null 2>&1; do sleep 0.2; done`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := grpc_health_v1.NewHealthClient(c.Conn()).Check(cmd.Context(), &grpc_health_v1.HealthCheckRequest{Service: service})
			if err != nil {
				return conn.callError("health", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), resp.GetStatus())
			if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "service to check, e.g. safethird.v1.AssessmentService (default: the whole server)")
	conn = addConnFlags(cmd.Flags())
	useGroupedHelp(cmd)
	return cmd
}
