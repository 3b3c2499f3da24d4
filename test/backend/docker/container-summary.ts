/**
 * One entry of `GET /containers/json` in the shape of the Docker Engine API v1.43 reference (ContainerSummary),
 * for the stand-in Engine API servers of the tests (no Docker engine runs here).
 */
export function containerSummary(c: { id: string; name: string; state: string }) {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: "alpine:3.20",
    ImageID: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    Command: "/bin/sh -c 'while true; do date; sleep 1; done'",
    Created: 1796385600,
    Ports: [],
    Labels: {},
    State: c.state,
    Status: c.state === "running" ? "Up 5 minutes" : "Exited (0) 2 minutes ago",
    HostConfig: { NetworkMode: "default" },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}
