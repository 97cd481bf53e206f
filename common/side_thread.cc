#include "common/side_thread.h"

#include <system_error>

#include "absl/strings/str_cat.h"

namespace opctl {

absl::StatusOr<std::unique_ptr<SideThread>> SideThread::Start(std::function<void()> body) {
  std::unique_ptr<SideThread> side(new SideThread());
  try {
    side->thread_ = std::thread([raw = side.get(), body = std::move(body)] {
      body();
      raw->done_.Notify();
    });
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot start a thread for the stream: ", error.what()));
  }
  return side;
}

SideThread::~SideThread() {
  if (thread_.joinable()) thread_.join();
}

void SideThread::Join(absl::Duration grace, const std::function<void()>& cancel) {
  if (!done_.WaitForNotificationWithTimeout(grace)) cancel();
  if (thread_.joinable()) thread_.join();
}

}  // namespace opctl
