// The docker-archive reader. manifest.json is often the last member, so every member is copied
// out on the one pass and sorted out afterwards; the archive is untrusted, so names are checked
// and links resolve only to other members.
#include "stage0/oci/docker_archive_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "common/sys/file.h"
#include "stage0/image/archive_stream.h"
#include "stage0/oci/blob_copy.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/oci_manifest.h"

namespace podrt::oci {
namespace {

using nlohmann::json;

constexpr std::string_view kLayerMediaType = "application/vnd.docker.image.rootfs.diff.tar";
constexpr int kMaxLinkHops = 8;

/// A name for messages: hostile names must not flood or break the line.
std::string shown(std::string_view text) {
  std::string result(text.substr(0, 120));
  for (char& c : result) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 120) result += "...";
  return "\"" + result + "\"";
}

/// Splits a relative path into components, resolving "." and ".." against `base` (components
/// already resolved). nullopt when the path is absolute or climbs above the archive's top.
std::optional<std::string> resolve_inside(std::vector<std::string> base, std::string_view path) {
  if (path.empty() || path.front() == '/') return std::nullopt;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view component = path.substr(start, slash - start);
    start = slash + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") {
      if (base.empty()) return std::nullopt;
      base.pop_back();
      continue;
    }
    base.emplace_back(component);
  }
  std::string joined;
  for (const std::string& component : base) {
    if (!joined.empty()) joined += '/';
    joined += component;
  }
  return joined;
}

/// A member name as written, normalized ("./a//b" -> "a/b"); ".." and absolute names are hostile.
Result<std::string> normalize_member_name(std::string_view raw) {
  if (raw.empty()) return Error::invalid("archive member with an empty name");
  if (raw.front() == '/') return Error::invalid("archive member " + shown(raw) + " has an absolute path");
  size_t start = 0;
  while (start <= raw.size()) {
    size_t slash = raw.find('/', start);
    if (slash == std::string_view::npos) slash = raw.size();
    if (raw.substr(start, slash - start) == "..")
      return Error::invalid("archive member " + shown(raw) + " has \"..\" in its path (refused)");
    start = slash + 1;
  }
  return *resolve_inside({}, raw);
}

std::vector<std::string> parent_components(const std::string& normalized) {
  std::vector<std::string> components;
  size_t start = 0;
  for (size_t slash = normalized.find('/'); slash != std::string::npos;
       slash = normalized.find('/', start)) {
    components.push_back(normalized.substr(start, slash - start));
    start = slash + 1;
  }
  return components;
}

/// A regular member copied out: its private file, digest and size.
struct Member {
  std::string path;
  std::string digest;
  uint64_t size = 0;
};

/// Every member read so far. Owns the private files: those not kept are removed when it goes.
class MemberTable {
 public:
  MemberTable() = default;
  MemberTable(const MemberTable&) = delete;
  MemberTable& operator=(const MemberTable&) = delete;
  ~MemberTable() {
    for (const auto& [name, member] : regular_) {
      if (kept_.count(member.path) == 0) ::unlink(member.path.c_str());
    }
  }

  bool has(const std::string& name) const { return regular_.count(name) != 0 || links_.count(name) != 0; }
  size_t regular_count() const { return regular_.size(); }
  void add_regular(const std::string& name, Member member) { regular_[name] = std::move(member); }
  /// `target`: the member it names, or nullopt when it points outside the archive.
  void add_link(const std::string& name, std::optional<std::string> target) {
    links_[name] = std::move(target);
  }

  /// The regular member `name` (as manifest.json writes it) is or links to.
  Result<const Member*> find(std::string_view name) const {
    std::string current = PODRT_TRY(normalize_member_name(name));
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto regular = regular_.find(current); regular != regular_.end()) return &regular->second;
      auto link = links_.find(current);
      if (link == links_.end()) return Error::invalid("the archive has no member " + shown(current));
      if (!link->second)
        return Error::invalid("archive member " + shown(current) + " links outside the archive (refused)");
      current = *link->second;
    }
    return Error::invalid("archive member " + shown(name) + " is a chain of too many links");
  }

  /// Leaves this member's file in place when the table goes.
  void keep(const std::string& path) { kept_.insert(path); }

 private:
  std::map<std::string, Member> regular_;
  std::map<std::string, std::optional<std::string>> links_;
  std::set<std::string> kept_;
};

/// The whole content of a small member.
Result<std::string> read_document(const Member& member, const std::string& what) {
  if (member.size > kMaxArchiveDocumentBytes) {
    return Error::invalid(what + " is larger than the limit of " +
                          std::to_string(kMaxArchiveDocumentBytes) + " bytes");
  }
  return sys::read_file(member.path);
}

/// "busybox:1.0" -> busybox, 1.0; "localhost:5000/a/b:t" -> localhost:5000/a/b, t.
void split_repo_tag(const std::string& repo_tag, std::string& name, std::string& tag) {
  size_t slash = repo_tag.rfind('/');
  size_t colon = repo_tag.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    name = repo_tag.substr(0, colon);
    tag = repo_tag.substr(colon + 1);
  } else {
    name = repo_tag;
    tag.clear();
  }
}

/// The archive's file name without directory and tar extension ("/x/busybox.tar" -> "busybox").
std::string name_from_file(const std::string& archive_path) {
  size_t slash = archive_path.rfind('/');
  std::string name = slash == std::string::npos ? archive_path : archive_path.substr(slash + 1);
  for (std::string_view suffix : {".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tgz", ".tar"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
      return name;
    }
  }
  size_t dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name.empty() ? "image" : name;
}

/// One read of one archive.
class ArchiveRead {
 public:
  ArchiveRead(const std::string& archive_path, const std::string& work_dir, uint64_t max_bytes)
      : archive_path_(archive_path), work_dir_(work_dir), max_bytes_(max_bytes) {}

  Result<void> copy_members() {
    fd_ = PODRT_TRY(sys::open_file(archive_path_, O_RDONLY));
    reader_.reset(archive_read_new());
    if (!reader_ || archive_read_support_format_tar(reader_.get()) != ARCHIVE_OK)
      return Error::invalid("libarchive: no tar support");
    // Some people compress their saves; the built-in decoders only (no external programs).
    archive_read_support_filter_gzip(reader_.get());
    archive_read_support_filter_bzip2(reader_.get());
    archive_read_support_filter_xz(reader_.get());
    archive_read_support_filter_zstd(reader_.get());
    if (archive_read_open_fd(reader_.get(), fd_.get(), 1 << 16) != ARCHIVE_OK) return read_error();
    for (;;) {
      struct archive_entry* entry = nullptr;
      int status = archive_read_next_header(reader_.get(), &entry);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return read_error();
      PODRT_TRY(copy_member(entry));
    }
    return ok();
  }

  MemberTable& members() { return members_; }

 private:
  Error read_error() {
    return Error::invalid("read " + archive_path_ + ": " + image::archive_error_line(reader_.get()));
  }

  Result<void> copy_member(struct archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    if (raw_name == nullptr) raw_name = archive_entry_pathname_utf8(entry);
    if (raw_name == nullptr) return Error::invalid("archive member with an undecodable name");
    std::string name = PODRT_TRY(normalize_member_name(raw_name));
    if (name.empty()) return ok();  // "./", the top directory
    const char* hardlink = archive_entry_hardlink(entry);
    mode_t type = archive_entry_filetype(entry);
    if (hardlink == nullptr && type != AE_IFREG && type != AE_IFLNK) return ok();  // dirs and the like
    if (members_.has(name)) return Error::invalid("archive member " + shown(name) + " appears twice");

    if (hardlink != nullptr) {  // tar hardlink targets name a member from the top
      members_.add_link(name, resolve_inside({}, hardlink));
      return ok();
    }
    if (type == AE_IFLNK) {  // symlink targets are relative to the link's directory
      const char* target = archive_entry_symlink(entry);
      members_.add_link(name, target == nullptr ? std::nullopt
                                                : resolve_inside(parent_components(name), target));
      return ok();
    }

    if (members_.regular_count() >= kMaxArchiveMembers) {
      return Error::invalid("the archive has more than " + std::to_string(kMaxArchiveMembers) +
                            " files (the limit)");
    }
    VerifiedBlobWriter writer = PODRT_TRY(create_member_file());
    std::vector<char> buffer(1 << 20);
    for (;;) {
      // archive_read_data (not _block): holes of sparse members arrive as zeros.
      la_ssize_t n = archive_read_data(reader_.get(), buffer.data(), buffer.size());
      if (n < 0) return read_error();
      if (n == 0) break;
      if (static_cast<uint64_t>(n) > max_bytes_ - total_bytes_) {
        return Error::invalid("the archive holds more than the limit of " + std::to_string(max_bytes_) +
                              " bytes");
      }
      total_bytes_ += static_cast<uint64_t>(n);
      PODRT_TRY(writer.write(std::string_view(buffer.data(), static_cast<size_t>(n))));
    }
    Member member;
    member.size = writer.bytes_written();
    member.digest = PODRT_TRY(writer.finish());
    member.path = writer.destination();
    members_.add_regular(name, std::move(member));
    return ok();
  }

  /// A new private file in work_dir; names other reads left there are skipped, not reused.
  Result<VerifiedBlobWriter> create_member_file() {
    for (int attempt = 0;; ++attempt) {
      std::string path = work_dir_ + "/member-" + std::to_string(next_file_number_++);
      auto writer = VerifiedBlobWriter::create(path, "", UINT64_MAX);
      if (writer || writer.error().code() != EEXIST || attempt >= 1000) return writer;
    }
  }

  const std::string& archive_path_;
  const std::string& work_dir_;
  uint64_t next_file_number_ = 0;
  uint64_t max_bytes_;
  uint64_t total_bytes_ = 0;
  MemberTable members_;  // destroyed last: removes the files not kept once reading is over
  UniqueFd fd_;          // before reader_: the handle reads it until freed
  image::ArchiveReadPtr reader_;
};

/// The single manifest.json entry, as the fields podrt uses.
struct ArchiveManifest {
  std::string config;
  std::vector<std::string> layers;
  std::string repo_tag;  ///< RepoTags[0], or ""
};

Result<ArchiveManifest> parse_archive_manifest(const std::string& text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_array())
    return Error::invalid("manifest.json is not a JSON array");
  if (document.size() != 1) {
    return Error::invalid("manifest.json lists " + std::to_string(document.size()) +
                          " images; save a single image (docker save IMAGE) and fetch that archive");
  }
  const json& entry = document.front();
  if (!entry.is_object()) return Error::invalid("manifest.json entry is not a JSON object");
  ArchiveManifest manifest;
  auto config = entry.find("Config");
  if (config == entry.end() || !config->is_string())
    return Error::invalid("manifest.json: \"Config\" is missing or not a string");
  manifest.config = config->get<std::string>();
  auto layers = entry.find("Layers");
  if (layers == entry.end() || !layers->is_array())
    return Error::invalid("manifest.json: \"Layers\" is missing or not an array");
  if (layers->empty()) return Error::invalid("manifest.json: the image has no layers");
  for (const json& layer : *layers) {
    if (!layer.is_string()) return Error::invalid("manifest.json: a \"Layers\" entry is not a string");
    manifest.layers.push_back(layer.get<std::string>());
  }
  auto repo_tags = entry.find("RepoTags");
  if (repo_tags != entry.end() && !repo_tags->is_null()) {
    if (!repo_tags->is_array()) return Error::invalid("manifest.json: \"RepoTags\" is not an array");
    if (!repo_tags->empty()) {
      if (!repo_tags->front().is_string())
        return Error::invalid("manifest.json: a \"RepoTags\" entry is not a string");
      manifest.repo_tag = repo_tags->front().get<std::string>();
    }
  }
  return manifest;
}

Result<FetchedImage> read_archive(const std::string& archive_path, const std::string& work_dir,
                                  const LayerLookup& have_layer, uint64_t max_bytes) {
  ArchiveRead read(archive_path, work_dir, max_bytes);
  PODRT_TRY(read.copy_members());
  MemberTable& members = read.members();

  if (!members.has("manifest.json"))
    return Error::invalid("not a docker archive (no manifest.json; made by docker save?)");
  const Member* manifest_member = PODRT_TRY(members.find("manifest.json"));
  std::string manifest_text = PODRT_TRY(read_document(*manifest_member, "manifest.json"));
  ArchiveManifest manifest = PODRT_TRY(parse_archive_manifest(manifest_text));

  FetchedImage image;
  const Member* config_member = PODRT_TRY_CONTEXT(members.find(manifest.config), "config");
  image.config_json = PODRT_TRY(read_document(*config_member, "config"));
  image.config_digest = config_member->digest;
  std::vector<std::string> diff_ids = PODRT_TRY(config_diff_ids(image.config_json));
  if (diff_ids.size() != manifest.layers.size()) {
    return Error::invalid("image config lists " + std::to_string(diff_ids.size()) +
                          " diff_ids but manifest.json has " + std::to_string(manifest.layers.size()) +
                          " layers");
  }

  std::map<std::string, bool> store_has;  // asked once per digest: repeated layers agree
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    std::string what = "layer " + std::to_string(i + 1) + " " + shown(manifest.layers[i]);
    const Member* member = PODRT_TRY_CONTEXT(members.find(manifest.layers[i]), what);
    // In a docker archive the layer tars are uncompressed, so their digests are the diff_ids.
    PODRT_TRY(expect_digest(what + " against the config's diff_id", diff_ids[i], member->digest));
    FetchedLayer layer;
    layer.digest = member->digest;
    layer.media_type = kLayerMediaType;
    layer.size = member->size;
    auto known = store_has.find(member->digest);
    if (known == store_has.end())
      known = store_has.emplace(member->digest, have_layer && have_layer(member->digest)).first;
    if (!known->second) layer.path = member->path;
    image.layers.push_back(std::move(layer));
  }
  // Only now, with nothing left to fail: what is kept stays, the rest goes with the table.
  for (const FetchedLayer& layer : image.layers) {
    if (!layer.path.empty()) members.keep(layer.path);
  }

  if (!manifest.repo_tag.empty()) {
    split_repo_tag(manifest.repo_tag, image.name, image.tag);
  } else {
    image.name = name_from_file(archive_path);
  }
  return image;
}

}  // namespace

Result<FetchedImage> read_docker_archive(const std::string& archive_path, const std::string& work_dir,
                                         const LayerLookup& have_layer, uint64_t max_bytes) {
  FetchedImage image = PODRT_TRY_CONTEXT(read_archive(archive_path, work_dir, have_layer, max_bytes),
                                         "docker-archive " + archive_path);
  image.source = "docker-archive:" + archive_path;
  return image;
}

}  // namespace podrt::oci
