// NsPodTest: end-to-end tests of pods under stage1-ns, run through the real podrt binary with
// the busybox and probe images. After every test, gc must leave nothing of the test's pods
// behind: no network namespace, no cgroup, no IP lease.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/podrt_fixture.h"

namespace podrt::testing {

class NsPodTest : public PodrtTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "stage1-ns tests need root: pods were not run";
    fetch(image_path("busybox.aci"));
    fetch(image_path("probe.aci"));
  }

  void TearDown() override {
    if (::geteuid() != 0) return;
    std::vector<std::string> uuids = pod_uuids();
    CommandResult gc = podrt({"gc", "--grace-period=0"});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    for (const std::string& uuid : uuids) {
      EXPECT_FALSE(std::filesystem::exists("/run/podrt/netns/" + uuid)) << "netns of " << uuid;
      for (const std::string& dir : own_cgroup_dirs())
        EXPECT_FALSE(std::filesystem::exists(dir + "/podrt-" + uuid)) << "cgroup " << dir << " of " << uuid;
    }
    EXPECT_EQ(ip_leases(uuids), 0u) << "IP leases of this test's pods left behind";
  }

  /// `podrt run --net=none ...` unless the arguments choose a network.
  CommandResult run_pod(std::vector<std::string> args) {
    bool has_net = false;
    for (const std::string& arg : args) has_net |= arg.rfind("--net", 0) == 0;
    args.insert(args.begin(), "run");
    if (!has_net) args.insert(args.begin() + 1, "--net=none");
    return podrt(args);
  }
  /// The probe image run with `podrt-probe ARGS...`.
  CommandResult probe(std::vector<std::string> flags, std::vector<std::string> probe_args) {
    flags.push_back("example.com/probe");
    flags.push_back("--exec=/bin/podrt-probe");
    flags.push_back("--");
    flags.insert(flags.end(), probe_args.begin(), probe_args.end());
    return run_pod(flags);
  }
  /// The busybox image running `sh -c SCRIPT`.
  CommandResult shell(std::vector<std::string> flags, const std::string& script) {
    flags.insert(flags.end(), {"example.com/busybox", "--exec=/bin/sh", "--", "-c", script});
    return run_pod(flags);
  }

  /// Starts `podrt run ARGS` in the background and waits until its pod is running (at most
  /// `tries` × 20 ms); returns the run's pid and the pod's uuid (empty, with a failure, if not).
  std::pair<int, std::string> start_in_background(std::vector<std::string> args, int tries = 500) {
    std::set<std::string> before;
    for (const std::string& uuid : pod_uuids()) before.insert(uuid);
    args.insert(args.begin(), {PODRT_BINARY, "--dir", data_dir(), "run"});
    int pid = spawn_quietly(args);
    for (int i = 0; i < tries; ++i) {
      for (const std::string& uuid : pod_uuids()) {
        if (before.count(uuid)) continue;
        std::string status = podrt({"status", uuid}).out;
        if (status.find("state=running") != std::string::npos && status.find("pid=") != std::string::npos)
          return {pid, uuid};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "pod did not start";
    return {pid, ""};
  }

  std::vector<std::string> pod_uuids() {
    std::vector<std::string> uuids;
    for (const std::string& line : lines(podrt({"list", "--full", "--no-legend"}).out)) {
      std::string uuid = line.substr(0, line.find_first_of(" \t"));
      if (uuid.size() == 36) uuids.push_back(uuid);
    }
    return uuids;
  }

  /// Where this process's pods put their cgroups: below our own cgroup in each hierarchy.
  static std::vector<std::string> own_cgroup_dirs() {
    std::vector<std::string> dirs;
    std::ifstream file("/proc/self/cgroup");
    for (std::string line; std::getline(file, line);) {
      size_t first = line.find(':'), second = line.find(':', first + 1);
      std::string controllers = line.substr(first + 1, second - first - 1);
      std::string path = line.substr(second + 1);
      std::string mount;
      if (controllers.empty()) {
        mount = std::filesystem::exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
      } else {
        std::string first_controller = controllers.substr(0, controllers.find(','));
        if (first_controller.rfind("name=", 0) == 0) first_controller = first_controller.substr(5);
        mount = "/sys/fs/cgroup/" + first_controller;
        if (!std::filesystem::exists(mount)) mount = "/sys/fs/cgroup/" + controllers;
      }
      dirs.push_back(mount + (path == "/" ? "" : path));
    }
    return dirs;
  }

  /// host-local keeps one file per leased address (named after it) holding the pod's id: in
  /// the data dir for user networks, host-wide for the built-in ones (kBuiltinIpamDir). Only
  /// this test's pods count: other tests' leases are theirs.
  size_t ip_leases(const std::vector<std::string>& uuids) const {
    size_t leases = 0;
    for (const std::string& root : {data_dir() + "/net/ipam", std::string("/run/podrt/ipam")}) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename();
        if (!it->is_regular_file() || std::count(name.begin(), name.end(), '.') != 3) continue;
        std::string holder = read_lease(it->path());
        for (const std::string& uuid : uuids) leases += holder.find(uuid) != std::string::npos;
      }
    }
    return leases;
  }
  static std::string read_lease(const std::filesystem::path& path) {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
};

inline std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace podrt::testing
