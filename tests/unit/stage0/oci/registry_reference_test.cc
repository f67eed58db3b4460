#include "stage0/oci/registry_reference.h"

#include <gtest/gtest.h>

#include <string>

namespace podrt::oci {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

RegistryReference parsed(const std::string& text) {
  auto reference = parse_registry_reference(text);
  EXPECT_TRUE(reference.has_value()) << text << ": " << reference.error().message();
  return reference.has_value() ? *reference : RegistryReference{};
}

std::string error_of(const std::string& text) {
  auto reference = parse_registry_reference(text);
  EXPECT_FALSE(reference.has_value()) << text << " was accepted as " << reference->to_string();
  return reference.has_value() ? "" : reference.error().message();
}

TEST(RegistryReferenceTest, HostPortNameAndTag) {
  RegistryReference reference = parsed("127.0.0.1:5000/busybox:1.36");
  EXPECT_EQ(reference.host, "127.0.0.1:5000");
  EXPECT_EQ(reference.repository, "busybox");  // no "library/" outside Docker Hub
  EXPECT_EQ(reference.tag, "1.36");
  EXPECT_EQ(reference.digest, "");
  EXPECT_EQ(reference.to_string(), "127.0.0.1:5000/busybox:1.36");
}

TEST(RegistryReferenceTest, DefaultTagIsLatest) {
  RegistryReference reference = parsed("registry.example.com/team/app");
  EXPECT_EQ(reference.host, "registry.example.com");
  EXPECT_EQ(reference.repository, "team/app");
  EXPECT_EQ(reference.tag, "latest");
}

TEST(RegistryReferenceTest, Digest) {
  RegistryReference reference = parsed("localhost:5000/a/b/c@" + kDigest);
  EXPECT_EQ(reference.host, "localhost:5000");
  EXPECT_EQ(reference.repository, "a/b/c");
  EXPECT_EQ(reference.tag, "");
  EXPECT_EQ(reference.digest, kDigest);
  EXPECT_EQ(reference.to_string(), "localhost:5000/a/b/c@" + kDigest);

  RegistryReference both = parsed("localhost/app:1@" + kDigest);
  EXPECT_EQ(both.host, "localhost");
  EXPECT_EQ(both.tag, "1");
  EXPECT_EQ(both.digest, kDigest);
}

TEST(RegistryReferenceTest, DockerHubLikeDocker) {
  RegistryReference official = parsed("busybox");
  EXPECT_EQ(official.host, "registry-1.docker.io");
  EXPECT_EQ(official.repository, "library/busybox");
  EXPECT_EQ(official.tag, "latest");

  RegistryReference user = parsed("someone/tool:v2");
  EXPECT_EQ(user.host, "registry-1.docker.io");
  EXPECT_EQ(user.repository, "someone/tool");
  EXPECT_EQ(user.tag, "v2");

  RegistryReference tagged = parsed("busybox:1.36");
  EXPECT_EQ(tagged.repository, "library/busybox");
  EXPECT_EQ(tagged.tag, "1.36");
}

TEST(RegistryReferenceTest, HostForms) {
  EXPECT_EQ(parsed("[::1]:5000/app").host, "[::1]:5000");
  EXPECT_EQ(parsed("Registry/app").host, "Registry");  // uppercase: never a repository name
  EXPECT_EQ(parsed("my-registry.local/app").host, "my-registry.local");
}

TEST(RegistryReferenceTest, NameComponentSeparators) {
  EXPECT_EQ(parsed("host.io/a.b_c__d-e--f/g").repository, "a.b_c__d-e--f/g");
}

TEST(RegistryReferenceTest, RefusesBadReferences) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("host.io/UPPER").find("bad repository name component \"UPPER\""),
            std::string::npos);
  EXPECT_NE(error_of("host.io/a//b").find("component \"\""), std::string::npos);
  EXPECT_NE(error_of("host.io/-a").find("bad repository"), std::string::npos);
  EXPECT_NE(error_of("host.io/a-").find("bad repository"), std::string::npos);
  EXPECT_NE(error_of("host.io/a___b").find("bad repository"), std::string::npos);
  EXPECT_NE(error_of("host.io/a..b").find("bad repository"), std::string::npos);
  EXPECT_NE(error_of("host.io/").find("no repository"), std::string::npos);
  EXPECT_NE(error_of("host.io/app:").find("bad tag"), std::string::npos);
  EXPECT_NE(error_of("host.io/app:.x").find("bad tag"), std::string::npos);
  EXPECT_NE(error_of("host.io/app:" + std::string(129, 'a')).find("bad tag"), std::string::npos);
  EXPECT_TRUE(parse_registry_reference("host.io/app:" + std::string(128, 'a')).has_value());
  EXPECT_NE(error_of("host.io:99999/app").find("bad registry host"), std::string::npos);
  EXPECT_NE(error_of("host.io:/app").find("bad registry host"), std::string::npos);
  EXPECT_NE(error_of("ho_st.io/app").find("bad registry host"), std::string::npos);
  EXPECT_NE(error_of("host.io/app@sha256:abc").find("invalid digest"), std::string::npos);
  EXPECT_NE(error_of("host.io/app@sha512:" + std::string(128, 'a')).find("sha256 only"),
            std::string::npos);
  EXPECT_NE(error_of("host.io/" + std::string(256, 'a')).find("longer than 255"),
            std::string::npos);
}

TEST(RegistryReferenceTest, ErrorsAreOneLine) {
  std::string message = error_of("host.io/a\nb");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace podrt::oci
