// Package compose holds the test of the repository's docker-compose.yml,
// the workshop of docs/workshop.md: it builds the image, runs
// `docker-compose up` under a project name of its own with free host ports,
// checks the story from the host (valid, revoked and untrusted clients, the
// redirect, the connection log on the host, a live revocation through the
// admin API, the switch to passthrough) and runs `docker-compose down -v`.
// Without a Docker daemon or docker-compose the test skips, except under
// CI=true, where it fails.
package compose
