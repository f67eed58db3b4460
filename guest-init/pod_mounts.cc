#include "guest-init/pod_mounts.h"

#include <sys/mount.h>

#include <cstdio>

#include "common/sys/file.h"
#include "guest-init/guest_paths.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::GuestApp;
using guest_protocol::GuestConfig;
using guest_protocol::GuestVolume;
using stage1::rootfs::AppRootfs;
using stage1::rootfs::BindSpec;

std::string octal(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

std::string volume_path(const std::string& name) { return std::string(kVolumesDir) + "/" + name; }

FilesystemMount volume_mount(const GuestVolume& volume) {
  FilesystemMount mount;
  mount.target = volume_path(volume.name);
  if (volume.kind == GuestVolume::Kind::kHost) {
    mount.source = volume.tag;
    mount.type = "9p";
    mount.options = "trans=virtio,version=9p2000.L,msize=" + std::to_string(kNinePMessageSize);
  } else {
    // One tmpfs per volume, not per app: every app that mounts it shares its files.
    mount.source = mount.type = "tmpfs";
    mount.options = "mode=" + octal(volume.mode) + ",uid=" + std::to_string(volume.uid) +
                    ",gid=" + std::to_string(volume.gid);
  }
  if (volume.read_only) mount.flags |= MS_RDONLY;
  return mount;
}

const GuestVolume* find_volume(const GuestConfig& config, const std::string& name) {
  for (const GuestVolume& volume : config.volumes)
    if (volume.name == name) return &volume;
  return nullptr;
}

AppRootfs app_rootfs(const GuestConfig& config, const GuestApp& app,
                     const std::vector<BindSpec>& etc_binds, const std::string& terminal) {
  std::string upper = std::string(kUpperDir) + "/" + app.name;
  AppRootfs root;
  root.path = guest_protocol::app_root_in_guest(app.name);
  root.lower = std::string(kLowerDir) + "/" + app.name;
  root.upper = upper + "/upper";
  root.work = upper + "/work";
  // The mount points inside (/proc, /dev, volume targets) are made through the overlay's upper
  // first; the root becomes read-only once they are all mounted.
  root.read_only = app.read_only_root;
  root.harden_paths = config.harden_paths;
  root.terminal = terminal;
  for (const guest_protocol::GuestMount& mount : app.mounts) {
    const GuestVolume* volume = find_volume(config, mount.volume);
    BindSpec bind;
    bind.source = volume_path(mount.volume);
    bind.target = mount.target;
    bind.read_only = mount.read_only || (volume != nullptr && volume->read_only);
    root.binds.push_back(std::move(bind));
  }
  root.binds.insert(root.binds.end(), etc_binds.begin(), etc_binds.end());
  return root;
}

}  // namespace

PodMounts plan_pod_mounts(const GuestConfig& config, const std::string& terminal) {
  PodMounts mounts;
  for (const GuestApp& app : config.apps) {
    FilesystemMount disk;
    disk.source = app.disk;
    disk.target = std::string(kLowerDir) + "/" + app.name;
    disk.type = app.fs_type;
    disk.flags = MS_RDONLY;
    mounts.filesystems.push_back(std::move(disk));
  }
  for (const GuestApp& app : config.apps) {
    FilesystemMount upper;
    upper.source = upper.type = "tmpfs";
    upper.target = std::string(kUpperDir) + "/" + app.name;
    upper.options = "mode=0755";
    upper.subdirectories = {"upper", "work"};
    mounts.filesystems.push_back(std::move(upper));
  }
  for (const GuestVolume& volume : config.volumes)
    mounts.filesystems.push_back(volume_mount(volume));

  std::vector<BindSpec> etc_binds;
  auto add_etc_file = [&](const char* name, const std::string& content) {
    if (content.empty()) return;  // the image's own file stays
    std::string path = std::string(kEtcDir) + "/" + name;
    mounts.files.push_back(GuestFile{path, content});
    BindSpec bind;
    bind.source = path;
    bind.target = std::string("/etc/") + name;
    bind.read_only = true;
    bind.recursive = false;
    etc_binds.push_back(std::move(bind));
  };
  add_etc_file("hosts", config.etc_hosts);
  add_etc_file("resolv.conf", config.etc_resolv_conf);

  for (const GuestApp& app : config.apps)
    mounts.apps.push_back(app_rootfs(config, app, etc_binds, terminal));
  return mounts;
}

Result<void> mount_pod(const PodMounts& mounts) {
  for (const FilesystemMount& mount : mounts.filesystems) {
    PODRT_TRY(sys::make_directories(mount.target, 0755));
    if (::mount(mount.source.c_str(), mount.target.c_str(), mount.type.c_str(), mount.flags,
                mount.options.empty() ? nullptr : mount.options.c_str()) != 0)
      return Error::from_errno("mount " + mount.source + " on " + mount.target);
    for (const std::string& sub : mount.subdirectories)
      PODRT_TRY(sys::make_directories(mount.target + "/" + sub, 0755));
  }
  for (const GuestFile& file : mounts.files) {
    PODRT_TRY(sys::make_directories(std::string(kEtcDir), 0755));
    PODRT_TRY(sys::write_file_atomic(file.path, file.content, 0644, sys::Sync::No));
  }
  // Errors name the app's root (/opt/stage2/<app>/rootfs) already.
  for (const AppRootfs& app : mounts.apps) PODRT_TRY(stage1::rootfs::mount_app_rootfs(app));
  return ok();
}

}  // namespace podrt::guest_init
