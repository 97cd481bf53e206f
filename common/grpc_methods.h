// Whether a gRPC method path ("/opctl.v1.Controller/Apply") names a method of a service compiled into
// this binary: what a server may put in a log line or a metric label (any other path is the caller's
// text, unbounded).
#pragma once

#include <string>

namespace opctl {

bool IsCompiledMethod(const std::string& path);

}  // namespace opctl
