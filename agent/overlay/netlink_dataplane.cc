#include "agent/overlay/netlink_dataplane.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <array>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ipv4.h"

namespace opctl::agent {
namespace {

// A request under construction, in a buffer of its own.
struct Message {
  char buffer[kNetlinkRequestBytes] = {};
  nlmsghdr* header;

  Message(uint16_t type, uint16_t flags) : header(mnl_nlmsg_put_header(buffer)) {
    header->nlmsg_type = type;
    header->nlmsg_flags = flags;
  }
  template <typename T>
  T* Payload() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header, sizeof(T)));
  }
};

absl::StatusOr<std::array<uint8_t, 6>> ParseMac(const std::string& text) {
  std::array<unsigned, 6> parts;
  std::array<uint8_t, 6> mac;
  char rest;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &parts[0], &parts[1], &parts[2], &parts[3], &parts[4],
                  &parts[5], &rest) != 6) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a MAC address"));
  }
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(parts[i]);
  return mac;
}

std::string FormatMac(const uint8_t* mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

// libmnl's attribute iteration macros do not compile as C++: the same loops, typed.
template <typename Each>
void ForEachAttribute(const nlmsghdr* message, size_t header_bytes, Each each) {
  const char* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(message));
  for (auto* attribute = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, header_bytes));
       mnl_attr_ok(attribute, static_cast<int>(end - reinterpret_cast<const char*>(attribute)));
       attribute = mnl_attr_next(attribute)) {
    each(attribute);
  }
}

template <typename Each>
void ForEachNested(const nlattr* nest, Each each) {
  const char* end = static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest);
  for (auto* attribute = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
       mnl_attr_ok(attribute, static_cast<int>(end - reinterpret_cast<const char*>(attribute)));
       attribute = mnl_attr_next(attribute)) {
    each(attribute);
  }
}

// An IPv4 attribute's value, in host byte order.
uint32_t AddressOf(const nlattr* attribute) { return ntohl(mnl_attr_get_u32(attribute)); }

void ParseVxlanData(const nlattr* data, NetlinkDataplane::Link& link) {
  ForEachNested(data, [&](const nlattr* attribute) {
    switch (mnl_attr_get_type(attribute)) {
      case IFLA_VXLAN_ID:
        link.vni = mnl_attr_get_u32(attribute);
        break;
      case IFLA_VXLAN_LOCAL:
        link.local = AddressOf(attribute);
        break;
      case IFLA_VXLAN_PORT:
        link.port = ntohs(mnl_attr_get_u16(attribute));
        break;
      case IFLA_VXLAN_LEARNING:
        link.learning = mnl_attr_get_u8(attribute) != 0;
        break;
      case IFLA_VXLAN_PROXY:
        link.proxy = mnl_attr_get_u8(attribute) != 0;
        break;
    }
  });
}

NetlinkDataplane::Link ParseLink(const nlmsghdr* message, std::string* name) {
  NetlinkDataplane::Link link;
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  link.index = info->ifi_index;
  link.up = (info->ifi_flags & IFF_UP) != 0;
  ForEachAttribute(message, sizeof(*info), [&](const nlattr* attribute) {
    switch (mnl_attr_get_type(attribute)) {
      case IFLA_IFNAME:
        *name = mnl_attr_get_str(attribute);
        break;
      case IFLA_MTU:
        link.mtu = static_cast<int>(mnl_attr_get_u32(attribute));
        break;
      case IFLA_MASTER:
        link.master = static_cast<int>(mnl_attr_get_u32(attribute));
        break;
      case IFLA_LINKINFO:
        ForEachNested(attribute, [&](const nlattr* nested) {
          if (mnl_attr_get_type(nested) == IFLA_INFO_KIND) link.kind = mnl_attr_get_str(nested);
          if (mnl_attr_get_type(nested) == IFLA_INFO_DATA) ParseVxlanData(nested, link);
        });
        break;
    }
  });
  return link;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetlinkDataplane>> NetlinkDataplane::Open() {
  absl::StatusOr<std::unique_ptr<NetlinkSocket>> socket = NetlinkSocket::Open();
  if (!socket.ok()) return socket.status();
  return std::unique_ptr<NetlinkDataplane>(new NetlinkDataplane(*std::move(socket)));
}

absl::StatusOr<NetlinkDataplane::Link> NetlinkDataplane::GetLink(const std::string& name) {
  Message request(RTM_GETLINK, 0);
  request.Payload<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request.header, IFLA_IFNAME, name.c_str());
  Link link;
  absl::Status asked = socket_->Request(request.header, absl::StrCat("reading link ", name), [&](const nlmsghdr* m) {
    std::string ignored;
    if (m->nlmsg_type == RTM_NEWLINK) link = ParseLink(m, &ignored);
  });
  if (!asked.ok()) return asked;
  return link;
}

absl::Status NetlinkDataplane::CreateLink(const VxlanLinkSpec& spec) {
  absl::StatusOr<uint32_t> local = ParseIpv4(spec.local_address);
  if (!local.ok()) return local.status();
  Message request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  request.Payload<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request.header, IFLA_IFNAME, spec.name.c_str());
  mnl_attr_put_u32(request.header, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  nlattr* info = mnl_attr_nest_start(request.header, IFLA_LINKINFO);
  mnl_attr_put_strz(request.header, IFLA_INFO_KIND, "vxlan");
  nlattr* data = mnl_attr_nest_start(request.header, IFLA_INFO_DATA);
  mnl_attr_put_u32(request.header, IFLA_VXLAN_ID, spec.vni);
  mnl_attr_put_u32(request.header, IFLA_VXLAN_LOCAL, htonl(*local));
  mnl_attr_put_u16(request.header, IFLA_VXLAN_PORT, htons(kVxlanPort));
  mnl_attr_put_u8(request.header, IFLA_VXLAN_LEARNING, 0);
  mnl_attr_put_u8(request.header, IFLA_VXLAN_PROXY, 1);
  // The inner packets carry their own checksums: one more over the outer UDP only costs CPU.
  mnl_attr_put_u8(request.header, IFLA_VXLAN_UDP_CSUM, 0);
  mnl_attr_nest_end(request.header, data);
  mnl_attr_nest_end(request.header, info);
  return socket_->Request(request.header, absl::StrCat("creating VXLAN link ", spec.name, " (VNI ", spec.vni,
                                                       ", local ", spec.local_address, ", UDP ", kVxlanPort, ")"));
}

absl::Status NetlinkDataplane::SetLink(int index, int mtu, int master, const std::string& name) {
  Message request(RTM_NEWLINK, 0);
  auto* info = request.Payload<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  mnl_attr_put_u32(request.header, IFLA_MTU, static_cast<uint32_t>(mtu));
  mnl_attr_put_u32(request.header, IFLA_MASTER, static_cast<uint32_t>(master));
  // Up is when the kernel opens UDP 4789: another user of the port makes this fail.
  return socket_->Request(
      request.header, absl::StrCat("bringing link ", name, " up (the kernel's VXLAN socket, UDP ", kVxlanPort, ")"));
}

absl::Status NetlinkDataplane::EnsureLink(const VxlanLinkSpec& spec) {
  absl::StatusOr<Link> bridge = GetLink(spec.bridge);
  if (absl::IsNotFound(bridge.status())) {
    return absl::NotFoundError(absl::StrCat("Docker's bridge ", spec.bridge, " is not on this host"));
  }
  if (!bridge.ok()) return bridge.status();
  absl::StatusOr<Link> link = GetLink(spec.name);
  absl::StatusOr<uint32_t> local = ParseIpv4(spec.local_address);
  if (!local.ok()) return local.status();
  bool wrong = link.ok() && (link->kind != "vxlan" || link->vni != spec.vni || link->local != *local ||
                             link->port != kVxlanPort || link->learning || !link->proxy);
  if (wrong) {
    if (absl::Status deleted = DeleteLink(spec.name); !deleted.ok()) return deleted;
  }
  if (wrong || absl::IsNotFound(link.status())) {
    if (absl::Status created = CreateLink(spec); !created.ok()) return created;
    link = GetLink(spec.name);
  }
  if (!link.ok()) return link.status();
  if (link->up && link->mtu == spec.mtu && link->master == bridge->index) return absl::OkStatus();
  return SetLink(link->index, spec.mtu, bridge->index, spec.name);
}

absl::StatusOr<std::vector<std::string>> NetlinkDataplane::ListLinks() {
  Message request(RTM_GETLINK, 0);
  request.Payload<ifinfomsg>()->ifi_family = AF_UNSPEC;
  std::vector<std::string> names;
  absl::Status listed = socket_->Dump(request.header, "listing links", [&](const nlmsghdr* m) {
    std::string name;
    if (m->nlmsg_type == RTM_NEWLINK) ParseLink(m, &name);
    if (absl::StartsWith(name, kOverlayLinkPrefix)) names.push_back(name);
  });
  if (!listed.ok()) return listed;
  return names;
}

absl::Status NetlinkDataplane::DeleteLink(const std::string& name) {
  absl::StatusOr<Link> link = GetLink(name);
  if (absl::IsNotFound(link.status())) return absl::OkStatus();
  if (!link.ok()) return link.status();
  Message request(RTM_DELLINK, 0);
  auto* info = request.Payload<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = link->index;
  absl::Status deleted = socket_->Request(request.header, absl::StrCat("deleting link ", name));
  return absl::IsNotFound(deleted) ? absl::OkStatus() : deleted;
}

absl::StatusOr<OverlayEntries> NetlinkDataplane::ReadEntries(const std::string& name) {
  absl::StatusOr<Link> link = GetLink(name);
  if (!link.ok()) return link.status();
  OverlayEntries entries;
  for (int family : {AF_BRIDGE, AF_INET}) {
    Message request(RTM_GETNEIGH, 0);
    request.Payload<ndmsg>()->ndm_family = static_cast<uint8_t>(family);
    absl::Status read =
        socket_->Dump(request.header, absl::StrCat("reading the entries of ", name), [&](const nlmsghdr* m) {
          const auto* neighbour = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
          if (m->nlmsg_type != RTM_NEWNEIGH || neighbour->ndm_ifindex != link->index) return;
          std::string mac, address;
          ForEachAttribute(m, sizeof(*neighbour), [&](const nlattr* attribute) {
            uint16_t type = mnl_attr_get_type(attribute);
            if (type == NDA_LLADDR && mnl_attr_get_payload_len(attribute) == 6) {
              mac = FormatMac(static_cast<const uint8_t*>(mnl_attr_get_payload(attribute)));
            } else if (type == NDA_DST && mnl_attr_get_payload_len(attribute) == 4) {
              address = FormatIpv4(AddressOf(attribute));
            }
          });
          if (mac.empty() || address.empty()) return;
          if (family == AF_BRIDGE && (neighbour->ndm_flags & NTF_SELF) != 0) entries.forwarding[mac] = address;
          if (family == AF_INET) entries.neighbours[address] = mac;
        });
    if (!read.ok()) return read;
  }
  return entries;
}

absl::Status NetlinkDataplane::ChangeNeighbour(int type, int family, const std::string& name, const std::string& mac,
                                               const std::string& address) {
  absl::StatusOr<Link> link = GetLink(name);
  if (!link.ok()) return link.status();
  Message request(static_cast<uint16_t>(type), type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  auto* neighbour = request.Payload<ndmsg>();
  neighbour->ndm_family = static_cast<uint8_t>(family);
  neighbour->ndm_ifindex = link->index;
  neighbour->ndm_state = NUD_PERMANENT;
  neighbour->ndm_flags = family == AF_BRIDGE ? NTF_SELF : 0;
  if (!mac.empty()) {
    absl::StatusOr<std::array<uint8_t, 6>> parsed = ParseMac(mac);
    if (!parsed.ok()) return parsed.status();
    mnl_attr_put(request.header, NDA_LLADDR, parsed->size(), parsed->data());
  }
  if (!address.empty()) {
    absl::StatusOr<uint32_t> parsed = ParseIpv4(address);
    if (!parsed.ok()) return parsed.status();
    mnl_attr_put_u32(request.header, NDA_DST, htonl(*parsed));
  }
  std::string what =
      absl::StrCat(type == RTM_NEWNEIGH ? "adding" : "removing",
                   family == AF_BRIDGE ? " forwarding entry " : " neighbour entry ", mac, " ", address, " on ", name);
  absl::Status changed = socket_->Request(request.header, what);
  return type == RTM_DELNEIGH && absl::IsNotFound(changed) ? absl::OkStatus() : changed;
}

absl::Status NetlinkDataplane::SetForwarding(const std::string& link, const std::string& mac,
                                             const std::string& remote) {
  return ChangeNeighbour(RTM_NEWNEIGH, AF_BRIDGE, link, mac, remote);
}

absl::Status NetlinkDataplane::RemoveForwarding(const std::string& link, const std::string& mac) {
  return ChangeNeighbour(RTM_DELNEIGH, AF_BRIDGE, link, mac, "");
}

absl::Status NetlinkDataplane::SetNeighbour(const std::string& link, const std::string& address,
                                            const std::string& mac) {
  return ChangeNeighbour(RTM_NEWNEIGH, AF_INET, link, mac, address);
}

absl::Status NetlinkDataplane::RemoveNeighbour(const std::string& link, const std::string& address) {
  return ChangeNeighbour(RTM_DELNEIGH, AF_INET, link, "", address);
}

}  // namespace opctl::agent
