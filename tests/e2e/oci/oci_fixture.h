// The OCI images of issue 6's end-to-end tests, made by real tools, and a real registry.
//   TestImages: tests/e2e/oci/make-images (umoci + skopeo) run once per test binary.
//   LocalRegistry: Debian's docker-registry on 127.0.0.1, filled by `skopeo copy`, stopped
//   (SIGTERM, then waited for) when the object goes.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "tests/support/command_runner.h"

namespace podrt::testing {

/// The images tests/e2e/oci/make-images builds (see that script for what each holds).
class TestImages {
 public:
  /// Built on first use; empty paths (and `error()` set) when a tool is missing or failed.
  static const TestImages& get() {
    static TestImages images;
    return images;
  }
  /// The OCI layout (tags v1 and v2).
  std::string layout() const { return dir_.path() + "/out/layout"; }
  /// The docker-archive of v1, tagged busybox:v1.
  std::string docker_archive() const { return dir_.path() + "/out/busybox-v1.tar"; }
  const std::string& error() const { return error_; }

 private:
  TestImages() {
    CommandResult made =
        run_command({PODRT_SOURCE_DIR "/tests/e2e/oci/make-images", dir_.path() + "/out"});
    if (made.exit_code != 0) error_ = "tests/e2e/oci/make-images failed: " + made.err;
  }
  TempDir dir_;
  std::string error_;
};

/// Debian's docker-registry serving plain HTTP on 127.0.0.1 from a directory of its own.
class LocalRegistry {
 public:
  /// Starts it; `error()` says why when it did not come up.
  LocalRegistry() {
    std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = 20000 + static_cast<int>(random() % 20000);
      std::ofstream(dir_.path() + "/config.yml")
          << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
          << dir_.path() << "/data\nhttp:\n  addr: 127.0.0.1:" << port_ << "\n";
      int pid = spawn_quietly({"docker-registry", "serve", dir_.path() + "/config.yml"});
      bool exited = false;
      auto still_running = [&] {
        int status = 0;
        if (!exited && ::waitpid(pid, &status, WNOHANG) != 0) exited = true;  // reaped (or gone)
        return !exited;
      };
      for (int i = 0; i < 100 && still_running(); ++i) {
        // Ours must still run when the port answers: a registry of a test running beside
        // this one may hold the port, and then ours has exited (address in use).
        if (run_command({"curl", "-sf", "-o", "/dev/null", url() + "/v2/"}).exit_code == 0 &&
            still_running()) {
          pid_ = pid;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ <= 0 && !exited) {
        ::kill(pid, SIGKILL);
        wait_for(pid);
      }
    }
    if (pid_ <= 0) error_ = "docker-registry did not answer on 127.0.0.1 (is it installed?)";
  }
  ~LocalRegistry() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    wait_for(pid_);
  }
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  /// "127.0.0.1:PORT"
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + host(); }
  const std::string& error() const { return error_; }

  /// `skopeo copy SOURCE docker://HOST/NAME`; the empty string on success, else skopeo's stderr.
  std::string push(const std::string& source, const std::string& name) const {
    CommandResult copied = run_command({"skopeo", "--insecure-policy", "copy", "-q",
                                        "--dest-tls-verify=false", source,
                                        "docker://" + host() + "/" + name});
    return copied.exit_code == 0 ? "" : copied.err;
  }

 private:
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

}  // namespace podrt::testing
