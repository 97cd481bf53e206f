// What a Service asks for, as Container objects: the pure part of the Service controller.
#pragma once

#include <string>
#include <vector>

#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// The Containers a Service wants, without node binding or status: "<service>-<ordinal>", each with
// its static address, its volume-template volumes mounted, owned by the Service, and, when the
// template mounts host paths, the policy's `host_path_roots` for the node to check them against.
std::vector<v1::Container> DesiredContainers(const v1::Service& service,
                                             const std::vector<std::string>& host_path_roots = {});
// "<template>-<service>-<ordinal>", the Volume a volume template gives one replica.
std::string TemplateVolumeName(const std::string& template_name, const std::string& service, int ordinal);

}  // namespace opctl::controller
