// libFuzzer target: every decoder of dockerd's answers, on any bytes (a hostile or broken dockerd
// must not crash the agent).
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/docker_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  using namespace opctl::agent;
  DecodeInfo(body).IgnoreError();
  DecodeContainerList(body).IgnoreError();
  DecodeContainerInspect(body).IgnoreError();
  DecodeNetworkList(body).IgnoreError();
  DecodeNetworkInspect(body).IgnoreError();
  DecodeVolumeList(body).IgnoreError();
  DecodeId(body, "fuzz").IgnoreError();
  DecodeApiVersion(body).IgnoreError();
  DecodeExecExitCode(body).IgnoreError();
  DecodeProgressError(body);
  DecodeEvent(body);
  DecodeErrorMessage(body);
  return 0;
}
