// Where guest-init keeps things in the guest (the initramfs root, which only guest-init and the
// supervisor see: every app is chrooted into its own rootfs below /opt/stage2).
#pragma once

namespace podrt::guest_init {

inline constexpr const char* kLowerDir = "/podrt/lower";     ///< <app>: the app's image disk
inline constexpr const char* kUpperDir = "/podrt/upper";     ///< <app>: tmpfs with upper/, work/
inline constexpr const char* kVolumesDir = "/podrt/volumes"; ///< <volume>: mounted once per pod
inline constexpr const char* kEtcDir = "/podrt/etc";         ///< hosts, resolv.conf for the apps
inline constexpr const char* kStatusDir = "/podrt/status";   ///< the supervisor's status/<app>
inline constexpr const char* kPodCgroup = "pod";             ///< below the guest's cgroup root

}  // namespace podrt::guest_init
