#include "stage0/trust/signature.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <map>
#include <memory>

#include "common/sys/file.h"
#include "stage0/trust/image_verification.h"
#include "tests/support/command_runner.h"

namespace podrt::trust {
namespace {

using podrt::testing::run_command;
using podrt::testing::TempDir;

const std::vector<std::string> kAlgorithms = {"ed25519", "p256", "rsa"};

/// Keys, files and signatures made with the openssl command, as a user would make them.
class SignatureTest : public ::testing::Test {
 protected:
  /// Makes NAME.pem (private) and NAME.pub.pem; returns the private key's path.
  std::string make_key(const std::string& name, const std::string& algorithm) {
    std::string key = path(name + ".pem");
    std::vector<std::string> generate = {"openssl", "genpkey", "-out", key};
    if (algorithm == "ed25519") generate.insert(generate.end(), {"-algorithm", "ed25519"});
    if (algorithm == "p256")
      generate.insert(generate.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
    if (algorithm == "rsa")
      generate.insert(generate.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    EXPECT_EQ(run_command(generate).exit_code, 0) << algorithm;
    EXPECT_EQ(
        run_command({"openssl", "pkey", "-in", key, "-pubout", "-out", public_key(name)}).exit_code,
        0);
    algorithms_[key] = algorithm;
    return key;
  }
  std::string public_key(const std::string& name) const { return path(name + ".pub.pem"); }

  /// Signs `file` into `signature` (default FILE.sig) the way the docs tell users to.
  void sign(const std::string& file, const std::string& key, std::string signature = "") {
    if (signature.empty()) signature = file + ".sig";
    auto made =
        algorithms_[key] == "ed25519"
            ? run_command({"openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", file,
                           "-out", signature})
            : run_command({"openssl", "dgst", "-sha256", "-sign", key, "-out", signature, file});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }

  /// `openssl pkeyutl -rawin` cannot sign an empty file ("Could not allocate 0 bytes"), so the
  /// Ed25519 signature of no bytes is made with the same library call it would use.
  void sign_empty_ed25519(const std::string& key, const std::string& signature) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(key.c_str(), "r"), std::fclose);
    ASSERT_TRUE(file);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> pkey(
        PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    ASSERT_TRUE(pkey);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char bytes[64];
    size_t length = sizeof(bytes);
    static const unsigned char kNothing = 0;
    ASSERT_EQ(EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, pkey.get()), 1);
    ASSERT_EQ(EVP_DigestSign(context.get(), bytes, &length, &kNothing, 0), 1);
    write_path(signature, std::string(reinterpret_cast<char*>(bytes), length));
  }

  void write_path(const std::string& file, const std::string& content) {
    EXPECT_TRUE(sys::write_file_atomic(file, content));
  }
  std::string write(const std::string& name, const std::string& content) {
    EXPECT_TRUE(sys::write_file_atomic(path(name), content));
    return path(name);
  }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

  TrustStore open_store() { return std::move(TrustStore::open(path("trust"))).value(); }

  /// Adds NAME's public key to the store for `prefix` ("" for a root key).
  TrustedKey trust(TrustStore& store, const std::string& name, const std::string& prefix) {
    auto key = store.add(prefix, prefix.empty(), public_key(name));
    EXPECT_TRUE(key) << key.error().message();
    return std::move(key).value();
  }

  TempDir dir_;
  std::map<std::string, std::string> algorithms_;
};

TEST_F(SignatureTest, EachAlgorithmVerifiesTheOpensslCommandsSignature) {
  TrustStore store = open_store();
  for (const std::string& algorithm : kAlgorithms) {
    SCOPED_TRACE(algorithm);
    std::string key = make_key(algorithm, algorithm);
    std::string data = write(algorithm + ".aci", "image bytes for " + algorithm);
    sign(data, key);
    TrustedKey trusted = trust(store, algorithm, "example.com");
    auto verifies = signature_verifies(data, data + ".sig", trusted);
    ASSERT_TRUE(verifies) << verifies.error().message();
    EXPECT_TRUE(*verifies);
    EXPECT_TRUE(verify_detached_signature(data, data + ".sig", trusted));
  }
}

TEST_F(SignatureTest, AChangedByteFails) {
  TrustStore store = open_store();
  for (const std::string& algorithm : kAlgorithms) {
    SCOPED_TRACE(algorithm);
    std::string key = make_key(algorithm, algorithm);
    std::string data = write(algorithm + ".aci", "image bytes for " + algorithm);
    sign(data, key);
    TrustedKey trusted = trust(store, algorithm, "example.com");
    write(algorithm + ".aci", "image bytes for " + algorithm.substr(0, algorithm.size() - 1) + "X");
    auto verifies = signature_verifies(data, data + ".sig", trusted);
    ASSERT_TRUE(verifies) << verifies.error().message();
    EXPECT_FALSE(*verifies);
    auto verified = verify_detached_signature(data, data + ".sig", trusted);
    ASSERT_FALSE(verified);
    EXPECT_NE(verified.error().message().find(trusted.fingerprint), std::string::npos);
  }
}

TEST_F(SignatureTest, AnotherKeysSignatureFails) {
  TrustStore store = open_store();
  for (const std::string& algorithm : kAlgorithms) {
    SCOPED_TRACE(algorithm);
    make_key("trusted-" + algorithm, algorithm);
    std::string stranger = make_key("stranger-" + algorithm, algorithm);
    std::string data = write(algorithm + ".aci", "image bytes");
    sign(data, stranger);
    TrustedKey trusted = trust(store, "trusted-" + algorithm, "example.com");
    auto verifies = signature_verifies(data, data + ".sig", trusted);
    ASSERT_TRUE(verifies) << verifies.error().message();
    EXPECT_FALSE(*verifies);
  }
}

TEST_F(SignatureTest, ASignatureOfAnotherAlgorithmFails) {
  TrustStore store = open_store();
  std::string rsa = make_key("rsa", "rsa");
  make_key("ed", "ed25519");
  std::string data = write("image.aci", "image bytes");
  sign(data, rsa);
  auto verifies = signature_verifies(data, data + ".sig", trust(store, "ed", "example.com"));
  ASSERT_TRUE(verifies) << verifies.error().message();
  EXPECT_FALSE(*verifies);
}

TEST_F(SignatureTest, EmptyAndMultiMegabyteFilesVerify) {
  TrustStore store = open_store();
  std::string big(3 * (1 << 20) + 12345, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 2654435761u >> 24);
  for (const std::string& algorithm : kAlgorithms) {
    SCOPED_TRACE(algorithm);
    std::string key = make_key(algorithm, algorithm);
    TrustedKey trusted = trust(store, algorithm, "example.com");
    for (const std::string& content : {std::string(), big}) {
      std::string data = write(algorithm + "-" + std::to_string(content.size()), content);
      if (algorithm == "ed25519" && content.empty())
        sign_empty_ed25519(key, data + ".sig");
      else
        sign(data, key);
      auto verifies = signature_verifies(data, data + ".sig", trusted);
      ASSERT_TRUE(verifies) << verifies.error().message();
      EXPECT_TRUE(*verifies) << content.size();
    }
    // The last chunk counts: change the final byte of the big file.
    std::string changed = big;
    changed.back() = static_cast<char>(changed.back() ^ 1);
    std::string data = write(algorithm + "-" + std::to_string(big.size()), changed);
    EXPECT_FALSE(*signature_verifies(data, data + ".sig", trusted));
  }
}

TEST_F(SignatureTest, GarbageOversizedAndMissingSignatures) {
  TrustStore store = open_store();
  make_key("ed", "ed25519");
  make_key("p256", "p256");
  TrustedKey ed = trust(store, "ed", "example.com");
  TrustedKey p256 = trust(store, "p256", "example.com");
  std::string data = write("image.aci", "image bytes");

  write("garbage.sig", "not a signature");
  EXPECT_FALSE(*signature_verifies(data, path("garbage.sig"), ed));
  EXPECT_FALSE(*signature_verifies(data, path("garbage.sig"), p256));  // not DER

  write("huge.sig", std::string(kMaxSignatureBytes + 1, 'x'));
  auto huge = signature_verifies(data, path("huge.sig"), ed);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("16 KiB"), std::string::npos);

  write("empty.sig", "");
  EXPECT_FALSE(signature_verifies(data, path("empty.sig"), ed));
  EXPECT_FALSE(signature_verifies(data, path("missing.sig"), ed));
  EXPECT_FALSE(signature_verifies(path("missing.aci"), path("garbage.sig"), ed));
  EXPECT_FALSE(signature_verifies(dir_.path(), path("garbage.sig"), ed));  // a directory
}

class ImageVerificationTest : public SignatureTest {};

TEST_F(ImageVerificationTest, AMissingSignatureSaysTheImageIsNotSigned) {
  TrustStore store = open_store();
  std::string image = write("busybox.aci", "image");
  auto verified = verify_image_signature(store, image, image + ".sig");
  ASSERT_FALSE(verified);
  EXPECT_NE(verified.error().message().find(image + " is not signed: no " + image + ".sig"),
            std::string::npos)
      << verified.error().message();
  EXPECT_NE(verified.error().message().find("--insecure-options=image"), std::string::npos);
}

TEST_F(ImageVerificationTest, NoTrustedKeysIsAnError) {
  TrustStore store = open_store();
  std::string image = write("busybox.aci", "image");
  sign(image, make_key("k", "ed25519"));
  auto verified = verify_image_signature(store, image, image + ".sig");
  ASSERT_FALSE(verified);
  EXPECT_NE(verified.error().message().find("no keys are trusted"), std::string::npos)
      << verified.error().message();
  EXPECT_NE(verified.error().message().find("podrt trust --prefix"), std::string::npos);
}

TEST_F(ImageVerificationTest, ReturnsEveryTrustedKeyThatVerifies) {
  TrustStore store = open_store();
  std::string image = write("busybox.aci", "image");
  sign(image, make_key("signer", "p256"));
  make_key("bystander", "ed25519");
  TrustedKey com = trust(store, "signer", "example.com");
  TrustedKey org = trust(store, "signer", "example.org");
  trust(store, "bystander", "");
  auto verified = verify_image_signature(store, image, image + ".sig");
  ASSERT_TRUE(verified) << verified.error().message();
  ASSERT_EQ(verified->size(), 2u);
  EXPECT_EQ((*verified)[0].prefix, "example.com");
  EXPECT_EQ((*verified)[1].prefix, "example.org");
  EXPECT_EQ((*verified)[0].fingerprint, com.fingerprint);
}

TEST_F(ImageVerificationTest, NoTrustedKeyVerifyingIsAnError) {
  TrustStore store = open_store();
  std::string image = write("busybox.aci", "image");
  sign(image, make_key("stranger", "ed25519"));
  make_key("trusted", "ed25519");
  trust(store, "trusted", "");
  auto verified = verify_image_signature(store, image, image + ".sig");
  ASSERT_FALSE(verified);
  std::string message = verified.error().message();
  EXPECT_NE(message.find("changed after signing"), std::string::npos) << message;
  EXPECT_NE(message.find("not trusted"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(ImageVerificationTest, CheckTrustedForRootPrefixAndMismatch) {
  TrustedKey root{"", "sha256:" + std::string(64, 'a'), "ed25519", "/r"};
  TrustedKey app{"example.com/app", "sha256:" + std::string(64, 'b'), "ed25519", "/p"};
  TrustedKey org{"example.org", "sha256:" + std::string(64, 'b'), "ed25519", "/q"};
  EXPECT_TRUE(check_trusted_for({root}, "anything/at/all"));
  EXPECT_TRUE(check_trusted_for({app}, "example.com/app"));
  EXPECT_TRUE(check_trusted_for({app}, "example.com/app/sub"));
  EXPECT_TRUE(check_trusted_for({org, app}, "example.com/app"));

  auto refused = check_trusted_for({app, org}, "example.com/apple");
  ASSERT_FALSE(refused);
  std::string message = refused.error().message();
  EXPECT_NE(message.find(app.fingerprint), std::string::npos) << message;
  EXPECT_NE(message.find("example.com/app, example.org"), std::string::npos) << message;
  EXPECT_NE(message.find("example.com/apple"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_FALSE(check_trusted_for({}, "example.com/app"));
}

}  // namespace
}  // namespace podrt::trust
