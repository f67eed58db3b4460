// Rendering: dependencies laid down depth-first with later layers winning (symlinks in the way
// replaced, not followed), and pathWhitelist, as appc's ace.md "Filesystem Setup" says.
#include <filesystem>

#include "common/sys/file.h"
#include "tests/e2e/podrt_fixture.h"
#include "tests/support/aci_writer.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;
using Kind = AciEntry::Kind;

class ImageRendering : public PodrtTest {};

TEST_F(ImageRendering, DependenciesRenderDepthFirstWithLaterLayersWinning) {
  std::string base_manifest = minimal_manifest("example.com/base");
  std::string base = scratch() + "/base.aci";
  ASSERT_TRUE(write_aci(base, aci_with({{.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
                                             {.path = "rootfs/etc/motd", .content = "base"},
                                             {.path = "rootfs/etc/base-only", .content = "b"},
                                             {.path = "rootfs/lib", .kind = Kind::Symlink, .link_target = "/etc"}},
                                            base_manifest)));
  std::string base_id = fetch(base);
  std::string top_manifest =
      R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/top",)"
      R"("dependencies":[{"imageName":"example.com/base","imageID":")" + base_id + R"("}]})";
  std::string top = scratch() + "/top.aci";
  ASSERT_TRUE(write_aci(top, aci_with({{.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/etc/motd", .content = "top"},
                                            {.path = "rootfs/lib", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/lib/libc", .content = "c"}},
                                           top_manifest)));
  fetch(top);
  std::string rendered = scratch() + "/rendered";
  podrt_ok({"image", "render", "--rootfs-only", "example.com/top", rendered});
  EXPECT_EQ(*sys::read_file(rendered + "/etc/motd"), "top");
  EXPECT_EQ(*sys::read_file(rendered + "/etc/base-only"), "b");
  // The base's symlink /lib -> /etc was replaced by top's directory, not followed.
  EXPECT_FALSE(fs::is_symlink(rendered + "/lib"));
  EXPECT_TRUE(fs::exists(rendered + "/lib/libc"));
  EXPECT_FALSE(fs::exists(rendered + "/etc/libc"));
  // The extract of top alone has only its own layer.
  std::string extracted = scratch() + "/extracted";
  podrt_ok({"image", "extract", "--rootfs-only", "example.com/top", extracted});
  EXPECT_FALSE(fs::exists(extracted + "/etc/base-only"));
}


TEST_F(ImageRendering, PathWhitelistKeepsOnlyTheListedPaths) {
  std::string manifest =
      R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/whitelisted",)"
      R"("pathWhitelist":["/bin/tool","/etc/keep"]})";
  std::string aci = scratch() + "/whitelisted.aci";
  ASSERT_TRUE(write_aci(aci, aci_with({{.path = "rootfs/bin", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/bin/tool", .content = "t", .mode = 0755},
                                            {.path = "rootfs/bin/other", .content = "o"},
                                            {.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/etc/keep", .content = "k"},
                                            {.path = "rootfs/etc/drop", .content = "d"},
                                            {.path = "rootfs/var", .kind = Kind::Directory, .mode = 0755}},
                                           manifest)));
  fetch(aci);
  std::string rendered = scratch() + "/rendered";
  podrt_ok({"image", "render", "--rootfs-only", "example.com/whitelisted", rendered});
  EXPECT_TRUE(fs::exists(rendered + "/bin/tool"));
  EXPECT_TRUE(fs::exists(rendered + "/etc/keep"));
  EXPECT_FALSE(fs::exists(rendered + "/bin/other"));
  EXPECT_FALSE(fs::exists(rendered + "/etc/drop"));
  EXPECT_FALSE(fs::exists(rendered + "/var"));
}

}  // namespace
}  // namespace podrt::testing
