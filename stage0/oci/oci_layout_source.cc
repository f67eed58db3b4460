// The OCI layout reader. The layout is a directory someone else wrote, so it is untrusted: paths
// inside it come from digests only, symlinks are refused and every byte is checked.
#include "stage0/oci/oci_layout_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>
#include <vector>

#include "common/sys/file.h"
#include "stage0/image/beneath.h"
#include "stage0/oci/blob_copy.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/oci_manifest.h"

namespace podrt::oci {
namespace {

using nlohmann::json;

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr int kMaxIndexDepth = 4;  // a layout's index -> a multi-platform index -> a manifest

/// The files this read copied into work_dir, removed unless the read succeeds.
class CopiedFiles {
 public:
  CopiedFiles() = default;
  CopiedFiles(const CopiedFiles&) = delete;
  CopiedFiles& operator=(const CopiedFiles&) = delete;
  ~CopiedFiles() {
    for (const std::string& path : paths_) ::unlink(path.c_str());
  }
  void add(std::string path) { paths_.push_back(std::move(path)); }
  void keep() { paths_.clear(); }

 private:
  std::vector<std::string> paths_;
};

/// The last path component, for naming an image after its layout directory.
std::string directory_name(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) != nullptr) {
      std::string full = resolved;
      name = full.substr(full.rfind('/') + 1);
    }
  }
  return name.empty() ? "image" : name;
}

/// One open layout: its directory fd and the reads confined to it.
class Layout {
 public:
  static Result<Layout> open(const std::string& dir) {
    // The user named this directory: following a symlink to it is their choice.
    UniqueFd fd = PODRT_TRY(sys::open_file(dir, O_PATH | O_DIRECTORY));
    Layout layout(std::move(fd));
    std::string marker = PODRT_TRY_CONTEXT(
        layout.read_document("oci-layout", nullptr),
        "not an OCI image layout");
    json parsed = json::parse(marker, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object())
      return Error::invalid("oci-layout file is not a JSON object");
    auto version = parsed.find("imageLayoutVersion");
    if (version == parsed.end() || !version->is_string())
      return Error::invalid("oci-layout file has no imageLayoutVersion");
    if (version->get<std::string>() != "1.0.0") {
      return Error::invalid("unsupported imageLayoutVersion \"" +
                            version->get<std::string>().substr(0, 40) + "\" (podrt reads 1.0.0)");
    }
    return layout;
  }

  /// Opens blobs/sha256/<hex> as a regular file whose size is the descriptor's.
  Result<UniqueFd> open_blob(const Descriptor& descriptor) {
    std::string digest = PODRT_TRY(parse_digest(descriptor.digest));
    std::string path = "blobs/sha256/" + digest.substr(digest.find(':') + 1);
    UniqueFd fd = PODRT_TRY_CONTEXT(open_regular(path), "blob " + digest);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat blob " + digest);
    if (static_cast<uint64_t>(st.st_size) != descriptor.size) {
      return Error::invalid("blob " + digest + ": size mismatch: expected " +
                            std::to_string(descriptor.size) + " bytes, the file has " +
                            std::to_string(st.st_size));
    }
    return fd;
  }

  /// A small blob (manifest, index, config) read and verified.
  Result<std::string> read_blob_document(const Descriptor& descriptor, const std::string& what) {
    if (descriptor.size > kMaxLayoutDocumentBytes) {
      return Error::invalid(what + " " + descriptor.digest + " is larger than the limit of " +
                            std::to_string(kMaxLayoutDocumentBytes) + " bytes");
    }
    UniqueFd fd = PODRT_TRY_CONTEXT(open_blob(descriptor), what);
    std::string content = PODRT_TRY_CONTEXT(read_capped(fd.get(), descriptor.size), what + " " + descriptor.digest);
    Sha256 sha;
    sha.update(content);
    PODRT_TRY(expect_digest(what, descriptor.digest, sha.digest()));
    return content;
  }

  /// A top-level file of the layout (oci-layout, index.json), capped; `size` receives its size.
  Result<std::string> read_document(const std::string& name, uint64_t* size) {
    UniqueFd fd = PODRT_TRY(open_regular(name));
    std::string content = PODRT_TRY_CONTEXT(read_capped(fd.get(), kMaxLayoutDocumentBytes), name);
    if (size != nullptr) *size = content.size();
    return content;
  }

 private:
  explicit Layout(UniqueFd fd) : fd_(std::move(fd)) {}

  /// Opens a file below the layout with no symlink anywhere on the way. O_NONBLOCK: a FIFO planted
  /// as a blob must fail the regular-file check, not hang the open.
  Result<UniqueFd> open_regular(const std::string& path) {
    UniqueFd fd = PODRT_TRY(image::open_beneath(fd_.get(), path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat " + path);
    if (!S_ISREG(st.st_mode)) return Error::invalid(path + " is not a regular file");
    return fd;
  }

  /// Up to `limit` bytes; more is an error (a file that grew, or one too large to be a document).
  static Result<std::string> read_capped(int fd, uint64_t limit) {
    std::string content;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::from_errno("read");
      }
      if (n == 0) break;
      if (static_cast<uint64_t>(n) > limit - content.size())
        return Error::invalid("larger than the limit of " + std::to_string(limit) + " bytes");
      content.append(buffer, static_cast<size_t>(n));
    }
    return content;
  }

  UniqueFd fd_;
};

std::string tag_list(const ImageIndex& index) {
  std::string tags;
  for (const Descriptor& entry : index.manifests) {
    auto name = entry.annotations.find(std::string(kRefNameAnnotation));
    if (name == entry.annotations.end()) continue;
    if (!tags.empty()) tags += ", ";
    tags += name->second.substr(0, 80);
  }
  return tags.empty() ? "none" : tags;
}

/// The index.json entry the user asked for.
Result<Descriptor> select_entry(const ImageIndex& index, const std::string& tag) {
  if (tag.empty()) {
    if (index.manifests.size() == 1) return index.manifests.front();
    if (index.manifests.empty()) return Error::invalid("the layout's index.json lists no images");
    return Error::invalid("the layout holds " + std::to_string(index.manifests.size()) +
                          " images; name one with oci-layout:PATH:TAG (tags: " + tag_list(index) + ")");
  }
  ImageIndex tagged;
  for (const Descriptor& entry : index.manifests) {
    auto name = entry.annotations.find(std::string(kRefNameAnnotation));
    if (name != entry.annotations.end() && name->second == tag) tagged.manifests.push_back(entry);
  }
  if (tagged.manifests.empty())
    return Error::invalid("no image tagged \"" + tag + "\" in the layout (tags: " + tag_list(index) + ")");
  if (tagged.manifests.size() == 1) return tagged.manifests.front();
  // Some writers tag one manifest per platform with the same name.
  return choose_platform(tagged, "linux", "amd64");
}

/// Splits a ref name that is a full reference ("docker.io/library/busybox:1.36") into name and
/// tag; a plain tag leaves the name to the caller.
void name_from_ref(const std::string& ref, const std::string& layout_dir, FetchedImage& image) {
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (slash == std::string::npos) {
    image.name = directory_name(layout_dir);
    image.tag = ref;
    return;
  }
  image.name = has_tag ? ref.substr(0, colon) : ref;
  image.tag = has_tag ? ref.substr(colon + 1) : "";
}

/// The config's rootfs.diff_ids must pair with the manifest's layers one to one.
Result<void> check_config(const std::string& config_json, size_t layer_count) {
  std::vector<std::string> diff_ids = PODRT_TRY(config_diff_ids(config_json));
  if (diff_ids.size() != layer_count) {
    return Error::invalid("image config lists " + std::to_string(diff_ids.size()) +
                          " diff_ids but the manifest has " + std::to_string(layer_count) + " layers");
  }
  return ok();
}

Result<FetchedImage> read_layout(const std::string& layout_dir, const std::string& tag,
                                 const std::string& work_dir, const LayerLookup& have_layer) {
  Layout layout = PODRT_TRY(Layout::open(layout_dir));
  std::string index_json = PODRT_TRY(layout.read_document("index.json", nullptr));
  ImageIndex index = PODRT_TRY_CONTEXT(parse_index(index_json, media_type::kOciIndex), "index.json");
  Descriptor entry = PODRT_TRY(select_entry(index, tag));

  FetchedImage image;
  auto ref = entry.annotations.find(std::string(kRefNameAnnotation));
  if (ref != entry.annotations.end()) {
    name_from_ref(ref->second, layout_dir, image);
  } else {
    image.name = directory_name(layout_dir);
  }
  if (!tag.empty()) image.tag = tag;

  // Follow indexes down to one image manifest.
  std::string manifest_json;
  for (int depth = 0;; ++depth) {
    std::string document = PODRT_TRY(layout.read_blob_document(entry, "manifest"));
    bool nested = PODRT_TRY_CONTEXT(document_is_index(document, entry.media_type),
                                    "manifest " + entry.digest);
    if (!nested) {
      manifest_json = std::move(document);
      break;
    }
    if (depth + 1 >= kMaxIndexDepth)
      return Error::invalid("image indexes nest more than " + std::to_string(kMaxIndexDepth) + " deep");
    ImageIndex nested_index = PODRT_TRY_CONTEXT(parse_index(document, entry.media_type),
                                                "index " + entry.digest);
    entry = PODRT_TRY_CONTEXT(choose_platform(nested_index, "linux", "amd64"), "index " + entry.digest);
  }
  ImageManifest manifest = PODRT_TRY_CONTEXT(parse_manifest(manifest_json, entry.media_type),
                                             "manifest " + entry.digest);
  image.manifest_digest = entry.digest;

  image.config_json = PODRT_TRY(layout.read_blob_document(manifest.config, "config"));
  image.config_digest = manifest.config.digest;
  PODRT_TRY(check_config(image.config_json, manifest.layers.size()));

  CopiedFiles copies;
  std::set<std::string> copied;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    FetchedLayer fetched;
    fetched.digest = layer.digest;
    fetched.media_type = layer.media_type;
    fetched.size = layer.size;
    std::string what = "layer " + std::to_string(i + 1) + " (" + layer.digest + ")";
    if (!have_layer || !have_layer(layer.digest)) {
      fetched.path = work_dir + "/" + digest_file_name(layer.digest);
      // An image may list the same blob twice (identical layers): one copy serves both.
      if (copied.insert(layer.digest).second) {
        UniqueFd blob = PODRT_TRY_CONTEXT(layout.open_blob(layer), what);
        PODRT_TRY_CONTEXT(copy_verified(blob.get(), fetched.path, layer.digest, layer.size), what);
        copies.add(fetched.path);
      }
    }
    image.layers.push_back(std::move(fetched));
  }
  copies.keep();
  return image;
}

}  // namespace

Result<FetchedImage> read_oci_layout(const std::string& layout_dir, const std::string& tag,
                                     const std::string& work_dir, const LayerLookup& have_layer) {
  std::string source = "oci-layout:" + layout_dir + (tag.empty() ? "" : ":" + tag);
  FetchedImage image = PODRT_TRY_CONTEXT(read_layout(layout_dir, tag, work_dir, have_layer),
                                         "oci-layout " + layout_dir);
  image.source = std::move(source);
  return image;
}

}  // namespace podrt::oci
