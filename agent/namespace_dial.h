// A TCP connection to 127.0.0.1:PORT inside a container's network namespace, as kubelet forwards a
// pod's port: a short-lived thread enters the namespace of the container's main process and creates
// the socket there, which then belongs to that namespace whichever thread uses it. Reaches ports the
// container binds to its own loopback, and needs neither a published port nor a route to it.
#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace opctl::agent {

// The connected socket (the caller closes it). UNAVAILABLE when nothing listens there.
absl::StatusOr<int> DialInNetworkNamespace(int pid, int port, absl::Duration timeout);

}  // namespace opctl::agent
