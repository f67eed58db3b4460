// Signatures and trust on fetch (issue 6, rkt's model): IMAGE.sig beside the image, made by the
// openssl command, checked against keys `podrt trust` added for a name prefix (or for every
// image with --root). Unsigned, untrusted and changed images are refused in one line with the
// store as it was; --insecure-options=image skips the check.
#include <filesystem>
#include <fstream>

#include "tests/e2e/oci/oci_fixture.h"
#include "tests/e2e/podrt_fixture.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

class ImageTrust : public PodrtTest {
 protected:
  void SetUp() override {
    image_ = scratch() + "/busybox.aci";
    fs::copy_file(image_path("busybox.aci"), image_);
  }

  /// Makes KEY.pem (private) and KEY.pub.pem for `algorithm`: ed25519, p256 or rsa.
  std::string make_key(const std::string& name, const std::string& algorithm) {
    std::string key = scratch() + "/" + name + ".pem";
    std::vector<std::string> generate = {"openssl", "genpkey", "-out", key};
    if (algorithm == "ed25519") generate.insert(generate.end(), {"-algorithm", "ed25519"});
    if (algorithm == "p256")
      generate.insert(generate.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
    if (algorithm == "rsa")
      generate.insert(generate.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    EXPECT_EQ(run_command(generate).exit_code, 0);
    EXPECT_EQ(run_command({"openssl", "pkey", "-in", key, "-pubout", "-out", public_key(name)}).exit_code, 0);
    return key;
  }
  std::string public_key(const std::string& name) const { return scratch() + "/" + name + ".pub.pem"; }

  /// Writes SIGNED.sig over the bytes of `signed_file` as a user would with openssl.
  void sign(const std::string& signed_file, const std::string& key, const std::string& algorithm,
            std::string signature = "") {
    if (signature.empty()) signature = signed_file + ".sig";
    CommandResult made =
        algorithm == "ed25519"
            ? run_command({"openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", signed_file,
                           "-out", signature})
            : run_command({"openssl", "dgst", "-sha256", "-sign", key, "-out", signature, signed_file});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }

  /// Expects `podrt fetch REFERENCE` refused in one line mentioning `expected`, nothing imported.
  void expect_refused(const std::string& reference, const std::string& expected) {
    std::string before = podrt_ok({"image", "list"});
    CommandResult refused = podrt({"fetch", reference});
    EXPECT_EQ(refused.exit_code, 254) << refused.out;
    EXPECT_EQ(lines(refused.err).size(), 1u) << refused.err;
    EXPECT_NE(refused.err.find(expected), std::string::npos) << refused.err;
    EXPECT_EQ(podrt_ok({"image", "list"}), before);
    EXPECT_EQ(temporary_entries(), 0u);
  }

  std::string image_;
};

TEST_F(ImageTrust, AnUnsignedImageIsRefusedUnlessTheCheckIsSkipped) {
  expect_refused(image_, "not signed");
  CommandResult skipped = podrt({"--insecure-options=image", "fetch", image_});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
}

TEST_F(ImageTrust, ASignatureByATrustedKeyIsAcceptedForItsPrefixOnly) {
  std::string key = make_key("tenant", "ed25519");
  sign(image_, key, "ed25519");
  expect_refused(image_, "trusted");  // signed, but no key is trusted yet
  podrt_ok({"trust", "--prefix", "example.org", public_key("tenant")});
  expect_refused(image_, "example.com/busybox");  // trusted for another prefix
  podrt_ok({"trust", "--prefix", "example.com", public_key("tenant")});
  CommandResult fetched = podrt({"fetch", image_});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_NE(podrt_ok({"image", "list"}).find("example.com/busybox"), std::string::npos);
}

TEST_F(ImageTrust, EcdsaAndRsaSignaturesMadeWithOpensslDgstVerify) {
  for (const std::string algorithm : {"p256", "rsa"}) {
    SCOPED_TRACE(algorithm);
    std::string key = make_key(algorithm, algorithm);
    sign(image_, key, algorithm);
    podrt_ok({"trust", "--root", public_key(algorithm)});
    CommandResult fetched = podrt({"fetch", image_});
    EXPECT_EQ(fetched.exit_code, 0) << fetched.err;
    podrt_ok({"image", "rm", "example.com/busybox"});
  }
}

TEST_F(ImageTrust, AnImageChangedAfterSigningOrSignedByAnotherKeyIsRefused) {
  std::string trusted = make_key("trusted", "ed25519");
  std::string stranger = make_key("stranger", "ed25519");
  podrt_ok({"trust", "--prefix", "example.com", public_key("trusted")});
  sign(image_, stranger, "ed25519");
  expect_refused(image_, "signature");
  sign(image_, trusted, "ed25519");
  std::ofstream(image_, std::ios::app) << std::string(1024, '\0');  // still a valid tar
  expect_refused(image_, "signature");
}

TEST_F(ImageTrust, DockerArchivesAndOciLayoutsAreSignedToo) {
  ASSERT_EQ(TestImages::get().error(), "");
  std::string key = make_key("oci", "p256");
  podrt_ok({"trust", "--prefix", "docker.io/library", public_key("oci")});
  std::string archive = scratch() + "/busybox-v1.tar";
  fs::copy_file(TestImages::get().docker_archive(), archive);
  expect_refused("docker-archive:" + archive, "not signed");
  sign(archive, key, "p256");
  CommandResult fetched = podrt({"fetch", "docker-archive:" + archive});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.err;

  // An OCI layout's signature sits beside it (LAYOUT.sig) and signs its index.json.
  std::string layout = scratch() + "/layout";
  fs::copy(TestImages::get().layout(), layout, fs::copy_options::recursive);
  expect_refused("oci-layout:" + layout + ":v1", "not signed");
  sign(layout + "/index.json", key, "p256", layout + ".sig");
  podrt_ok({"trust", "--prefix", "layout", public_key("oci")});
  CommandResult layout_fetched = podrt({"fetch", "oci-layout:" + layout + ":v1"});
  EXPECT_EQ(layout_fetched.exit_code, 0) << layout_fetched.err;
}

TEST_F(ImageTrust, RegistryImagesNeedTheCheckSkippedAsInRkt) {
  CommandResult refused = podrt({"fetch", "docker://127.0.0.1:1/tenant/busybox:v1"});
  EXPECT_EQ(refused.exit_code, 254);
  EXPECT_NE(refused.err.find("--insecure-options=image"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace podrt::testing
