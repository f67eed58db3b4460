#include "common/metadata/identity_key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/command_runner.h"

namespace podrt::metadata {
namespace {

using podrt::testing::TempDir;
const std::string kUuid = "6733c3e5-6b2a-4ea4-b1f5-5e4d1f7e1a10";
const std::string kOtherUuid = "0f2b2c9a-8c61-4b43-9d4e-2a7b0c1e9d55";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_bytes(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(IdentityKeyTest, CreatesA64ByteKeyReadableOnlyByItsOwnerAndReusesIt) {
  TempDir dir;
  std::string path = dir.path() + "/keys/hmac";  // the parent is created too
  auto first = IdentityKey::load_or_create(path);
  ASSERT_TRUE(first) << first.error().message();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 64);
  std::string bytes = read_bytes(path);

  auto second = IdentityKey::load_or_create(path);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(read_bytes(path), bytes) << "the second load must not replace the key";
  EXPECT_EQ(first->sign(kUuid, "hello"), second->sign(kUuid, "hello"));
  EXPECT_TRUE(second->verify(kUuid, "hello", first->sign(kUuid, "hello")));
}

TEST(IdentityKeyTest, DifferentKeyFilesSignDifferently) {
  TempDir dir;
  auto a = IdentityKey::load_or_create(dir.path() + "/a");
  auto b = IdentityKey::load_or_create(dir.path() + "/b");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->sign(kUuid, "x"), b->sign(kUuid, "x"));
  EXPECT_FALSE(b->verify(kUuid, "x", a->sign(kUuid, "x")));
}

TEST(IdentityKeyTest, SignatureIsBase64OfHmacSha512OverUuidNulContent) {
  TempDir dir;
  std::string path = dir.path() + "/hmac";
  auto key = IdentityKey::load_or_create(path);
  ASSERT_TRUE(key);
  std::string raw_key = read_bytes(path);
  std::string content("payload\0with nul", 16);
  std::string message = kUuid + std::string(1, '\0') + content;
  unsigned char mac[64];
  unsigned int mac_size = 0;
  HMAC(EVP_sha512(), raw_key.data(), static_cast<int>(raw_key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_size);
  ASSERT_EQ(mac_size, 64u);
  unsigned char encoded[89];
  EVP_EncodeBlock(encoded, mac, 64);
  std::string signature = key->sign(kUuid, content);
  EXPECT_EQ(signature, std::string(reinterpret_cast<char*>(encoded)));
  EXPECT_EQ(signature.size(), IdentityKey::kSignatureSize);
}

TEST(IdentityKeyTest, VerifyRejectsAnythingButTheExactSignature) {
  TempDir dir;
  auto key = IdentityKey::load_or_create(dir.path() + "/hmac");
  ASSERT_TRUE(key);
  std::string signature = key->sign(kUuid, "content");
  EXPECT_TRUE(key->verify(kUuid, "content", signature));
  EXPECT_FALSE(key->verify(kUuid, "content!", signature));
  EXPECT_FALSE(key->verify(kOtherUuid, "content", signature));
  EXPECT_FALSE(key->verify(kUuid, "content", signature.substr(0, 87)));
  EXPECT_FALSE(key->verify(kUuid, "content", ""));
  std::string flipped = signature;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(key->verify(kUuid, "content", flipped));
  // The separator: moving bytes between uuid and content must not keep a signature valid.
  std::string shifted = key->sign("a", std::string("b\0c", 3));
  EXPECT_FALSE(key->verify(std::string("a\0b", 3), "c", shifted));
  EXPECT_EQ(key->sign(std::string("a\0b", 3), "c"), "");
}

TEST(IdentityKeyTest, CorruptKeyFileIsAOneLineErrorAndIsLeftAlone) {
  TempDir dir;
  std::string path = dir.path() + "/hmac";
  write_bytes(path, "too short", 0600);
  auto key = IdentityKey::load_or_create(path);
  ASSERT_FALSE(key);
  std::string message = key.error().message();
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(read_bytes(path), "too short");
}

TEST(IdentityKeyTest, KeyReadableByOthersIsRefused) {
  TempDir dir;
  std::string path = dir.path() + "/hmac";
  write_bytes(path, std::string(64, 'k'), 0644);
  auto key = IdentityKey::load_or_create(path);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("0644"), std::string::npos) << key.error().message();
}

TEST(IdentityKeyTest, DirectoryInPlaceOfTheKeyIsAnError) {
  TempDir dir;
  std::string path = dir.path() + "/hmac";
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  EXPECT_FALSE(IdentityKey::load_or_create(path));
}

TEST(IdentityKeyTest, RacingCreatorsAllEndUpWithTheSameKey) {
  TempDir dir;
  for (int round = 0; round < 20; ++round) {
    std::string path = dir.path() + "/hmac-" + std::to_string(round);
    constexpr int kRacers = 8;
    std::vector<std::string> signatures(kRacers);
    std::vector<std::string> errors(kRacers);
    std::vector<std::thread> racers;
    for (int i = 0; i < kRacers; ++i) {
      racers.emplace_back([&, i] {
        auto key = IdentityKey::load_or_create(path);
        if (key)
          signatures[i] = key->sign(kUuid, "race");
        else
          errors[i] = key.error().message();
      });
    }
    for (auto& racer : racers) racer.join();
    for (int i = 0; i < kRacers; ++i) {
      EXPECT_EQ(errors[i], "") << "racer " << i;
      EXPECT_EQ(signatures[i], signatures[0]) << "racer " << i << " in round " << round;
    }
  }
  // Only the keys are left: no temporary files.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 20);
}

}  // namespace
}  // namespace podrt::metadata
