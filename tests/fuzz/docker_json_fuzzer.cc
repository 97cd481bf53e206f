// libFuzzer target: every decoder of dockerd's answers, on any bytes (a hostile or broken dockerd
// must not crash the agent), and the encoders of what the agent sends, on specs whose every string
// comes from those bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_split.h"
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

  // The same bytes, cut at newlines, as the strings of a container and a network to create.
  std::vector<std::string> words = absl::StrSplit(body, '\n');
  auto word = [&](size_t i) { return words[i % words.size()]; };
  DockerContainerSpec container;
  container.image = word(0);
  container.entrypoint = {word(1)};
  container.cmd = {word(2), word(3)};
  container.env = {word(4)};
  container.user = word(5);
  container.working_dir = word(6);
  container.labels[word(7)] = word(8);
  container.restart_policy = word(9);
  container.mounts = {{word(10), "", word(11), true}, {"", word(12), word(13), false}};
  container.ports = {{static_cast<int>(size % 65536), word(14), word(15), 0}};
  container.network = word(16);
  container.ipv4_address = word(17);
  container.cap_add = {word(18)};
  container.healthcheck = DockerHealthCheck{{word(19)}, 1, 2, 3, 4};
  EncodeContainerCreate(container);
  DockerNetworkSpec network{
      word(20), word(21), word(22), size % 2 == 0, {{word(23), word(24)}}, static_cast<int>(size % 9000)};
  EncodeNetworkCreate(network);
  return 0;
}
