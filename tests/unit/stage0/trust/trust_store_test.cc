#include "stage0/trust/trust_store.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/sys/file.h"
#include "tests/support/command_runner.h"

namespace podrt::trust {
namespace {

namespace fs = std::filesystem;
using podrt::testing::run_command;
using podrt::testing::TempDir;

class TrustStoreTest : public ::testing::Test {
 protected:
  /// Makes NAME.pem (private) and NAME.pub.pem with the openssl command; returns the public one.
  /// `algorithm`: ed25519, p256, p384, rsa1024 or rsa.
  std::string make_key(const std::string& name, const std::string& algorithm) {
    std::string key = private_key(name);
    std::vector<std::string> generate = {"openssl", "genpkey", "-out", key};
    if (algorithm == "ed25519") generate.insert(generate.end(), {"-algorithm", "ed25519"});
    if (algorithm == "p256" || algorithm == "p384")
      generate.insert(generate.end(), {"-algorithm", "EC", "-pkeyopt",
                                       "ec_paramgen_curve:" +
                                           std::string(algorithm == "p256" ? "P-256" : "P-384")});
    if (algorithm == "rsa" || algorithm == "rsa1024")
      generate.insert(generate.end(),
                      {"-algorithm", "RSA", "-pkeyopt",
                       algorithm == "rsa" ? "rsa_keygen_bits:2048" : "rsa_keygen_bits:1024"});
    EXPECT_EQ(run_command(generate).exit_code, 0) << algorithm;
    std::string pub = dir_.path() + "/" + name + ".pub.pem";
    EXPECT_EQ(run_command({"openssl", "pkey", "-in", key, "-pubout", "-out", pub}).exit_code, 0);
    return pub;
  }
  std::string private_key(const std::string& name) const {
    return dir_.path() + "/" + name + ".pem";
  }

  /// sha256 of the DER SubjectPublicKeyInfo, computed by the openssl and sha256sum commands.
  static std::string openssl_fingerprint(const std::string& pub) {
    auto result =
        run_command({"sh", "-c", "openssl pkey -pubin -in '" + pub + "' -outform DER | sha256sum"});
    EXPECT_EQ(result.exit_code, 0);
    return "sha256:" + result.out.substr(0, 64);
  }

  std::string write(const std::string& name, const std::string& content) {
    std::string path = dir_.path() + "/" + name;
    EXPECT_TRUE(sys::write_file_atomic(path, content));
    return path;
  }

  TrustStore open_store() {
    auto store = TrustStore::open(trust_dir());
    EXPECT_TRUE(store) << store.error().message();
    return std::move(store).value();
  }
  std::string trust_dir() const { return dir_.path() + "/trust"; }

  TempDir dir_;
};

TEST_F(TrustStoreTest, AddsEachSupportedAlgorithmUnderItsFingerprint) {
  TrustStore store = open_store();
  const std::map<std::string, std::string> expected = {
      {"ed25519", "ed25519"}, {"p256", "ecdsa-p256"}, {"rsa", "rsa-2048"}};
  for (const auto& [algorithm, name] : expected) {
    SCOPED_TRACE(algorithm);
    std::string pub = make_key(algorithm, algorithm);
    auto key = store.add("example.com/app", false, pub);
    ASSERT_TRUE(key) << key.error().message();
    EXPECT_EQ(key->algorithm, name);
    EXPECT_EQ(key->prefix, "example.com/app");
    EXPECT_EQ(key->fingerprint, openssl_fingerprint(pub));
    EXPECT_EQ(key->path,
              trust_dir() + "/prefix.d/example.com/app/" + key->fingerprint.substr(7) + ".pem");
    EXPECT_TRUE(sys::path_exists(key->path));
  }
  auto listed = store.list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 3u);
}

TEST_F(TrustStoreTest, RootKeysGoToRootD) {
  TrustStore store = open_store();
  auto key = store.add("", true, make_key("root", "ed25519"));
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(key->prefix, "");
  EXPECT_EQ(key->path, trust_dir() + "/root.d/" + key->fingerprint.substr(7) + ".pem");
  EXPECT_FALSE(store.add("example.com", true, make_key("both", "ed25519")));
}

TEST_F(TrustStoreTest, StoresOpensslsEncodingNotTheGivenBytes) {
  std::string pub = make_key("k", "p256");
  std::string original = *sys::read_file(pub);
  std::string padded =
      write("padded.pem", "text before the key is skipped by PEM readers\n" + original);
  TrustStore store = open_store();
  auto key = store.add("example.com", false, padded);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(*sys::read_file(key->path), original);
  auto mode = fs::status(key->path).permissions();
  EXPECT_EQ(mode & fs::perms::others_write, fs::perms::none);
}

TEST_F(TrustStoreTest, AddingTheSameKeyTwiceKeepsOne) {
  TrustStore store = open_store();
  std::string pub = make_key("k", "ed25519");
  ASSERT_TRUE(store.add("example.com", false, pub));
  ASSERT_TRUE(store.add("example.com", false, pub));
  ASSERT_TRUE(store.add("example.org", false, pub));
  auto listed = store.list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u);
}

TEST_F(TrustStoreTest, RefusesWhatIsNotASupportedPublicKey) {
  TrustStore store = open_store();
  std::string ed = make_key("ed", "ed25519");
  std::string p256 = make_key("p256", "p256");
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"p384", {make_key("p384", "p384"), "secp384r1"}},
      {"rsa1024", {make_key("rsa1024", "rsa1024"), "too weak"}},
      {"private ed25519", {private_key("ed"), "private key"}},
      {"private p256", {private_key("p256"), "private key"}},
      {"garbage", {write("garbage.pem", "not a key at all\n"), "not a PEM public key"}},
      {"broken pem",
       {write("broken.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        "not a PEM public key"}},
      {"certificate-ish",
       {write("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "not a PEM public key"}},
      {"two keys",
       {write("two.pem", *sys::read_file(ed) + *sys::read_file(p256)), "one public key per file"}},
      {"empty", {write("empty.pem", ""), "not a PEM public key"}},
      {"missing", {dir_.path() + "/missing.pem", "No such file"}},
      {"too big", {write("big.pem", std::string(65 * 1024, 'A')), "64 KiB"}},
  };
  for (const auto& [what, file_and_message] : cases) {
    SCOPED_TRACE(what);
    auto added = store.add("example.com", false, file_and_message.first);
    ASSERT_FALSE(added);
    std::string message = added.error().message();
    EXPECT_NE(message.find(file_and_message.second), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  auto listed = store.list();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(TrustStoreTest, RefusesPrefixesThatAreNotImageNames) {
  TrustStore store = open_store();
  std::string pub = make_key("k", "ed25519");
  for (const std::string prefix : {"", "Example.com", "a//b", "/a", "a/", "a/../b", "..", ".",
                                   "a/./b", "a b", "a:b", "a\\b", "é"}) {
    SCOPED_TRACE(prefix);
    auto added = store.add(prefix, false, pub);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().message().find('\n'), std::string::npos);
  }
  for (const std::string prefix :
       {"example.com", "example.com/app", "a-b_c~d.e/f0", "docker.io/library"})
    EXPECT_TRUE(store.add(prefix, false, pub)) << prefix;
  EXPECT_FALSE(sys::path_exists(dir_.path() + "/b"));  // "a/../b" never escaped
}

TEST(PrefixMatching, IsComponentWise) {
  EXPECT_TRUE(prefix_matches("example.com/app", "example.com/app"));
  EXPECT_TRUE(prefix_matches("example.com/app", "example.com/app/x"));
  EXPECT_TRUE(prefix_matches("example.com", "example.com/app"));
  EXPECT_TRUE(prefix_matches("", "anything/at/all"));
  EXPECT_FALSE(prefix_matches("example.com/app", "example.com/apple"));
  EXPECT_FALSE(prefix_matches("example.com/app", "example.com"));
  EXPECT_FALSE(prefix_matches("example.com", "example.community"));
  EXPECT_FALSE(prefix_matches("example.com", "www.example.com"));
}

TEST_F(TrustStoreTest, KeysForAnImageAreItsPrefixesAndRootKeys) {
  TrustStore store = open_store();
  auto root = *store.add("", true, make_key("root", "ed25519"));
  auto app = *store.add("example.com/app", false, make_key("app", "ed25519"));
  auto top = *store.add("example.com", false, make_key("top", "p256"));
  auto other = *store.add("example.org", false, make_key("other", "ed25519"));

  auto fingerprints = [&](const std::string& image) {
    std::set<std::string> result;
    auto keys = store.keys_for(image);
    EXPECT_TRUE(keys);
    for (const TrustedKey& key : *keys) result.insert(key.prefix + "=" + key.fingerprint);
    return result;
  };
  auto entry = [](const TrustedKey& key) { return key.prefix + "=" + key.fingerprint; };
  EXPECT_EQ(fingerprints("example.com/app/x"), (std::set{entry(root), entry(app), entry(top)}));
  EXPECT_EQ(fingerprints("example.com/apple"), (std::set{entry(root), entry(top)}));
  EXPECT_EQ(fingerprints("example.org"), (std::set{entry(root), entry(other)}));
  EXPECT_EQ(fingerprints("example.net/x"), (std::set{entry(root)}));
}

TEST_F(TrustStoreTest, ListsRootKeysFirstThenByPrefix) {
  TrustStore store = open_store();
  ASSERT_TRUE(store.add("example.org", false, make_key("a", "ed25519")));
  ASSERT_TRUE(store.add("", true, make_key("b", "rsa")));
  ASSERT_TRUE(store.add("example.com/app", false, make_key("c", "p256")));
  auto listed = store.list();
  ASSERT_TRUE(listed) << listed.error().message();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].prefix, "");
  EXPECT_EQ((*listed)[0].algorithm, "rsa-2048");
  EXPECT_EQ((*listed)[1].prefix, "example.com/app");
  EXPECT_EQ((*listed)[2].prefix, "example.org");
}

TEST_F(TrustStoreTest, EmptyOrMissingStoreListsNothing) {
  auto listed = open_store().list();
  ASSERT_TRUE(listed) << listed.error().message();
  EXPECT_TRUE(listed->empty());
  write("plain-file", "x");
  EXPECT_FALSE(TrustStore::open(dir_.path() + "/plain-file"));
}

TEST_F(TrustStoreTest, IgnoresStrayFilesAndRefusesTamperedOnes) {
  TrustStore store = open_store();
  TrustedKey key = *store.add("example.com", false, make_key("k", "ed25519"));
  std::string directory = fs::path(key.path).parent_path();
  // A write_file_atomic leftover and a file not named by a fingerprint are not keys.
  ASSERT_TRUE(sys::write_file_atomic(key.path + ".tmp-1-2", *sys::read_file(key.path)));
  ASSERT_TRUE(sys::write_file_atomic(directory + "/README", "hello"));
  fs::create_symlink(key.path, directory + "/" + std::string(64, 'a') + ".pem");
  auto listed = store.list();
  ASSERT_TRUE(listed) << listed.error().message();
  EXPECT_EQ(listed->size(), 1u);

  // A key stored under another key's fingerprint is refused, never silently trusted.
  std::string forged = directory + "/" + std::string(64, 'b') + ".pem";
  ASSERT_TRUE(sys::write_file_atomic(forged, *sys::read_file(make_key("other", "ed25519"))));
  auto tampered = store.list();
  ASSERT_FALSE(tampered);
  EXPECT_NE(tampered.error().message().find(forged), std::string::npos);
}

TEST_F(TrustStoreTest, RemovesByFingerprintOrUniqueLeadingHex) {
  TrustStore store = open_store();
  std::string shared = make_key("shared", "ed25519");
  TrustedKey a = *store.add("example.com", false, shared);
  ASSERT_TRUE(store.add("example.org", false, shared));
  TrustedKey b = *store.add("", true, make_key("b", "p256"));
  TrustedKey c = *store.add("example.com/app", false, make_key("c", "rsa"));

  // A key trusted for two prefixes goes from both.
  auto removed = store.remove(a.fingerprint, RemoveBy::Fingerprint);
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ(removed->size(), 2u);
  removed = store.remove(b.fingerprint.substr(7), RemoveBy::Fingerprint);
  ASSERT_TRUE(removed) << removed.error().message();
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0].prefix, "");
  // Twelve hex digits are unique among two keys; upper case is accepted.
  std::string leading = c.fingerprint.substr(7, 12);
  for (char& ch : leading) ch = static_cast<char>(std::toupper(ch));
  removed = store.remove("sha256:" + leading, RemoveBy::Fingerprint);
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ((*removed)[0].fingerprint, c.fingerprint);
  EXPECT_TRUE(store.list()->empty());
  // Emptied prefix directories go too.
  EXPECT_FALSE(sys::path_exists(trust_dir() + "/prefix.d/example.com"));

  auto nothing = store.remove(a.fingerprint, RemoveBy::Fingerprint);
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message().find("no trusted key"), std::string::npos);
  EXPECT_FALSE(store.remove("not-hex", RemoveBy::Fingerprint));
  EXPECT_FALSE(store.remove("", RemoveBy::Fingerprint));
}

TEST_F(TrustStoreTest, AmbiguousFingerprintRemovesNothing) {
  TrustStore store = open_store();
  // Seventeen keys cannot all differ in their first hex digit; stop at the first repeat.
  std::map<char, std::string> by_first_digit;
  std::string digit;
  for (int i = 0; i < 17 && digit.empty(); ++i) {
    TrustedKey key = *store.add("example.com", false, make_key("k" + std::to_string(i), "ed25519"));
    char first = key.fingerprint[7];
    if (by_first_digit.count(first) != 0) digit = std::string(1, first);
    by_first_digit[first] = key.fingerprint;
  }
  ASSERT_FALSE(digit.empty());
  size_t before = store.list()->size();
  auto removed = store.remove(digit, RemoveBy::Fingerprint);
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().message().find("ambiguous"), std::string::npos);
  EXPECT_EQ(store.list()->size(), before);
}

TEST_F(TrustStoreTest, RemovesEveryKeyOfExactlyOnePrefix) {
  TrustStore store = open_store();
  ASSERT_TRUE(store.add("example.com", false, make_key("a", "ed25519")));
  ASSERT_TRUE(store.add("example.com", false, make_key("b", "p256")));
  TrustedKey app = *store.add("example.com/app", false, make_key("c", "ed25519"));
  ASSERT_TRUE(store.add("", true, make_key("d", "ed25519")));

  auto removed = store.remove("example.com", RemoveBy::Prefix);
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ(removed->size(), 2u);
  auto listed = store.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].fingerprint, app.fingerprint);  // a longer prefix is another prefix
  EXPECT_TRUE(sys::path_exists(app.path));

  auto nothing = store.remove("example.com", RemoveBy::Prefix);
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message().find("no key is trusted for prefix example.com"),
            std::string::npos);
  EXPECT_FALSE(store.remove("Bad//prefix", RemoveBy::Prefix));
}

}  // namespace
}  // namespace podrt::trust
