// A channel to the controllers: one address (HOST:PORT, a DNS name may stand for several) or several
// (IP:PORT,IP:PORT,...). gRPC's pick_first then keeps to one controller and, when it fails, moves to
// the next that answers; calls and streams that broke are the caller's to retry or resume.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace opctl {

// The addresses in "A,B,C"; INVALID_ARGUMENT naming the bad one (several must be IPv4 IP:PORT).
absl::StatusOr<std::vector<std::string>> ParseControllerAddresses(const std::string& servers);

// TLS checks the first address's host against the controllers' certificate (scripts/gen-certs.sh makes
// one for them all, with every address in OPCTL_CERT_SANS).
absl::StatusOr<std::shared_ptr<grpc::Channel>> ControllerChannel(
    const std::string& servers, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments arguments = {});

}  // namespace opctl
