// podrt trust: adding, listing and removing the keys that may sign images, through the binary.
#include <filesystem>
#include <regex>

#include "tests/e2e/podrt_fixture.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

class TrustCli : public PodrtTest {
 protected:
  /// Makes NAME.pem (private) and NAME.pub.pem for ed25519, p256, p384 or rsa; returns the
  /// public key's path.
  std::string make_key(const std::string& name, const std::string& algorithm) {
    std::string key = private_key(name);
    std::vector<std::string> generate = {"openssl", "genpkey", "-out", key};
    if (algorithm == "ed25519") generate.insert(generate.end(), {"-algorithm", "ed25519"});
    if (algorithm == "p256")
      generate.insert(generate.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
    if (algorithm == "p384")
      generate.insert(generate.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"});
    if (algorithm == "rsa")
      generate.insert(generate.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    EXPECT_EQ(run_command(generate).exit_code, 0);
    std::string pub = scratch() + "/" + name + ".pub.pem";
    EXPECT_EQ(run_command({"openssl", "pkey", "-in", key, "-pubout", "-out", pub}).exit_code, 0);
    return pub;
  }
  std::string private_key(const std::string& name) const { return scratch() + "/" + name + ".pem"; }

  static std::string fingerprint(const std::string& pub) {
    CommandResult der =
        run_command({"sh", "-c", "openssl pkey -pubin -in '" + pub + "' -outform DER | sha256sum"});
    EXPECT_EQ(der.exit_code, 0);
    return "sha256:" + der.out.substr(0, 64);
  }

  /// Expects `podrt args...` to fail with exit code 254 and one line mentioning `expected`.
  void expect_refused(const std::vector<std::string>& args, const std::string& expected) {
    CommandResult refused = podrt(args);
    EXPECT_EQ(refused.exit_code, 254) << refused.out;
    EXPECT_EQ(lines(refused.err).size(), 1u) << refused.err;
    EXPECT_NE(refused.err.find(expected), std::string::npos) << refused.err;
  }

  std::vector<std::string> listed() { return lines(podrt_ok({"trust", "list", "--no-legend"})); }
};

TEST_F(TrustCli, AddsListsAndRemovesKeys) {
  std::string ed = make_key("ed", "ed25519");
  std::string p256 = make_key("p256", "p256");
  std::string rsa = make_key("rsa", "rsa");
  std::string ed_fp = fingerprint(ed);
  std::string p256_fp = fingerprint(p256);
  std::string rsa_fp = fingerprint(rsa);

  EXPECT_EQ(podrt_ok({"trust", "--prefix", "example.com/app", ed}),
            "trusted key " + ed_fp + " (ed25519) for prefix example.com/app\n");
  EXPECT_NE(podrt_ok({"trust", "--prefix", "example.com", p256}).find(p256_fp + " (ecdsa-p256)"),
            std::string::npos);
  EXPECT_NE(podrt_ok({"trust", "--root", rsa}).find(rsa_fp + " (rsa-2048)"), std::string::npos);
  // rkt's layout, the prefix's slashes kept as directories.
  EXPECT_TRUE(fs::is_regular_file(data_dir() + "/trust/prefix.d/example.com/app/" +
                                  ed_fp.substr(7) + ".pem"));
  EXPECT_TRUE(fs::is_regular_file(data_dir() + "/trust/root.d/" + rsa_fp.substr(7) + ".pem"));

  std::vector<std::string> table = lines(podrt_ok({"trust", "list"}));
  ASSERT_EQ(table.size(), 4u);
  EXPECT_TRUE(std::regex_match(table[0], std::regex("PREFIX +FINGERPRINT +ALGORITHM *")))
      << table[0];
  EXPECT_TRUE(std::regex_match(table[1], std::regex("\\* +" + rsa_fp + " +rsa-2048 *")))
      << table[1];
  EXPECT_TRUE(
      std::regex_match(table[2], std::regex("example\\.com +" + p256_fp + " +ecdsa-p256 *")))
      << table[2];
  EXPECT_TRUE(std::regex_match(table[3], std::regex("example\\.com/app +" + ed_fp + " +ed25519 *")))
      << table[3];

  // By full fingerprint, by enough of its hex, by prefix.
  EXPECT_NE(podrt_ok({"trust", "rm", rsa_fp}).find("removed key " + rsa_fp), std::string::npos);
  EXPECT_NE(podrt_ok({"trust", "rm", ed_fp.substr(7, 16)}).find("removed key " + ed_fp),
            std::string::npos);
  ASSERT_EQ(listed().size(), 1u);
  EXPECT_NE(podrt_ok({"trust", "rm", "--prefix", "example.com"}).find(p256_fp), std::string::npos);
  EXPECT_TRUE(listed().empty());

  expect_refused({"trust", "rm", ed_fp}, "no trusted key has fingerprint");
  expect_refused({"trust", "rm", "--prefix", "example.com"}, "no key is trusted for prefix");
}

TEST_F(TrustCli, RefusesKeysAndPrefixesItCannotTrust) {
  std::string ed = make_key("ed", "ed25519");
  std::string p384 = make_key("p384", "p384");
  expect_refused({"trust", "--prefix", "example.com", private_key("ed")}, "private key");
  expect_refused({"trust", "--prefix", "example.com", p384}, "secp384r1");
  expect_refused({"trust", "--prefix", "example.com", scratch() + "/missing.pem"}, "missing.pem");
  expect_refused({"trust", "--prefix", "Example.com", ed}, "prefix");
  expect_refused({"trust", "--prefix", "example.com/../x", ed}, "prefix");
  expect_refused({"trust", ed}, "--root");
  expect_refused({"trust", "--prefix", "example.com", "--root", ed}, "--root");
  expect_refused({"trust", "--prefix", "example.com"}, "no key file");
  expect_refused({"trust", "rm"}, "FINGERPRINT");
  EXPECT_TRUE(listed().empty());
}

TEST_F(TrustCli, OneKeyCanBeTrustedForSeveralPrefixes) {
  std::string ed = make_key("ed", "ed25519");
  podrt_ok({"trust", "--prefix", "example.com", ed});
  podrt_ok({"trust", "--prefix", "example.org", ed});
  podrt_ok({"trust", "--prefix", "example.org", ed});  // again: still one entry
  ASSERT_EQ(listed().size(), 2u);
  // Removing the key by fingerprint stops trusting it everywhere.
  std::string removed = podrt_ok({"trust", "rm", fingerprint(ed)});
  EXPECT_EQ(lines(removed).size(), 2u) << removed;
  EXPECT_TRUE(listed().empty());
}

}  // namespace
}  // namespace podrt::testing
