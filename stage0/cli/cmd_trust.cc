// podrt trust --prefix NAME KEY.pem | --root KEY.pem, podrt trust list, podrt trust rm:
// the keys that may sign images, kept in <dir>/trust as rkt keeps them.
#include <cstdio>

#include "stage0/cli/command.h"
#include "stage0/cli/output.h"
#include "stage0/trust/trust_store.h"

namespace podrt::cli {
namespace {

struct TrustOptions {
  std::string prefix;
  bool root = false;
  std::vector<std::string> key_files;
  std::vector<std::string> fingerprints;
  std::string remove_prefix;
  bool no_legend = false;
};

constexpr const char* kSigningHelp =
    "Images are signed with the openssl command, IMAGE.sig beside IMAGE:\n"
    "  Ed25519:          openssl pkeyutl -sign -rawin -inkey KEY.pem -in IMAGE -out IMAGE.sig\n"
    "  ECDSA P-256, RSA: openssl dgst -sha256 -sign KEY.pem -out IMAGE.sig IMAGE\n"
    "and the public half is trusted with podrt trust --prefix NAME KEY.pub.pem\n"
    "(openssl pkey -in KEY.pem -pubout -out KEY.pub.pem makes it).\n";

Result<trust::TrustStore> open_trust_store(const GlobalOptions& globals) {
  return trust::TrustStore::open(globals.dir + "/trust");
}

std::string describe(const trust::TrustedKey& key) {
  return "key " + key.fingerprint + " (" + key.algorithm + ") for " +
         (key.prefix.empty() ? "every image (root key)" : "prefix " + key.prefix);
}

Result<int> add_keys(const GlobalOptions& globals, const TrustOptions& options) {
  if (options.key_files.empty())
    return Error::invalid(
        "no key file given: podrt trust --prefix NAME KEY.pem (or --root KEY.pem)");
  if (options.root == !options.prefix.empty())
    return Error::invalid(
        "give either --prefix NAME (keys for images under NAME) or --root "
        "(keys for every image)");
  trust::TrustStore store = PODRT_TRY(open_trust_store(globals));
  for (const std::string& file : options.key_files) {
    trust::TrustedKey key = PODRT_TRY(store.add(options.prefix, options.root, file));
    std::printf("trusted %s\n", describe(key).c_str());
  }
  return 0;
}

Result<int> list_keys(const GlobalOptions& globals, const TrustOptions& options) {
  trust::TrustStore store = PODRT_TRY(open_trust_store(globals));
  std::vector<trust::TrustedKey> keys = PODRT_TRY(store.list());
  std::vector<std::vector<std::string>> rows = {{"PREFIX", "FINGERPRINT", "ALGORITHM"}};
  for (const trust::TrustedKey& key : keys)
    rows.push_back({key.prefix.empty() ? "*" : key.prefix, key.fingerprint, key.algorithm});
  print_table(rows, !options.no_legend);
  return 0;
}

Result<int> remove_keys(const GlobalOptions& globals, const TrustOptions& options) {
  if (options.fingerprints.empty() == options.remove_prefix.empty())
    return Error::invalid(
        "give either a FINGERPRINT or --prefix NAME (podrt trust list shows them)");
  trust::TrustStore store = PODRT_TRY(open_trust_store(globals));
  auto print_removed = [](const std::vector<trust::TrustedKey>& removed) {
    for (const trust::TrustedKey& key : removed) std::printf("removed %s\n", describe(key).c_str());
  };
  if (!options.remove_prefix.empty())
    print_removed(PODRT_TRY(store.remove(options.remove_prefix, trust::RemoveBy::Prefix)));
  for (const std::string& fingerprint : options.fingerprints)
    print_removed(PODRT_TRY(store.remove(fingerprint, trust::RemoveBy::Fingerprint)));
  return 0;
}

}  // namespace

void register_trust_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<TrustOptions>();
  CLI::App* trust = app.add_subcommand("trust", "trust public keys to sign images, list, remove");
  trust->require_subcommand(0, 1);
  trust->footer(kSigningHelp);
  CLI::Option* prefix = trust->add_option("--prefix", options->prefix,
                                          "trust the keys for images named NAME or NAME/...");
  trust->add_flag("--root", options->root, "trust the keys for every image")->excludes(prefix);
  trust->add_option("key", options->key_files,
                    "PEM public key file (Ed25519, ECDSA P-256, RSA 2048+)");
  // Without a subcommand `trust` adds keys; CLI11 runs a subcommand's callback before its
  // parent's, so the parent only claims the action when no subcommand was given.
  trust->callback([trust, &context, options] {
    if (!trust->get_subcommands().empty()) return;
    context.action = [&context, options]() -> Result<int> {
      return add_keys(context.globals, *options);
    };
  });

  CLI::App* list = add_command(*trust, context, options, "list", "list trusted keys", list_keys);
  list->add_flag("--no-legend", options->no_legend, "omit the table header");

  CLI::App* rm = add_command(*trust, context, options, "rm", "stop trusting keys", remove_keys);
  CLI::Option* fingerprint = rm->add_option("fingerprint", options->fingerprints,
                                            "sha256:<hex> of the key, or enough of its hex");
  rm->add_option("--prefix", options->remove_prefix, "remove every key trusted for NAME")
      ->excludes(fingerprint);
}

}  // namespace podrt::cli
